/**
 * Checks an output path before any work starts, so a mistake costs no training time and ends in
 * a named error instead of a stack trace from deep inside a writer.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '@lico/core';

function statOrNull(p: string) {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}

/**
 * Throws a `ConfigError` (exit 2) when `path` cannot be written as a `kind` ('dir' or 'file'):
 * it exists as the other kind, a parent is a file, or the nearest existing parent is not writable.
 */
export function checkOutputPath(path: string, kind: 'dir' | 'file', option: string): void {
  const full = resolve(path);
  const here = statOrNull(full);
  if (here) {
    if (kind === 'dir' && !here.isDirectory()) throw new ConfigError(`${option} ${path}: this is a file; give a directory (it is created if missing).`);
    if (kind === 'file' && here.isDirectory()) throw new ConfigError(`${option} ${path}: this is a directory; give a file name, e.g. ${path.replace(/\/$/, '')}/report.html.`);
  }
  let p = here ? (kind === 'dir' ? full : dirname(full)) : dirname(full);
  for (;;) {
    const s = statOrNull(p);
    if (s) {
      if (!s.isDirectory()) throw new ConfigError(`${option} ${path}: '${p}' is a file, so nothing can be created under it.`);
      try {
        accessSync(p, constants.W_OK);
      } catch {
        throw new ConfigError(`${option} ${path}: '${p}' is not writable by this user.`);
      }
      return;
    }
    const up = dirname(p);
    if (up === p) return;
    p = up;
  }
}
