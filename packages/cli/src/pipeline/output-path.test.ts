import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@lico/core';
import { describe, expect, it } from 'vitest';
import { checkOutputPath } from './output-path';

const here = dirname(fileURLToPath(import.meta.url));

describe('checkOutputPath', () => {
  it('accepts new and existing directories and files of the right kind; refuses the wrong kind and a file as parent', () => {
    const root = mkdtempSync(join(tmpdir(), 'lico-out-'));
    writeFileSync(join(root, 'f.json'), '{}');
    mkdirSync(join(root, 'd'));
    checkOutputPath(join(root, 'd'), 'dir', '--out');
    checkOutputPath(join(root, 'new', 'deeper'), 'dir', '--out');
    checkOutputPath(join(root, 'f.json'), 'file', '--out');
    checkOutputPath(join(root, 'new', 'r.html'), 'file', '--out');
    expect(() => checkOutputPath(join(root, 'f.json'), 'dir', '--out')).toThrow(ConfigError);
    expect(() => checkOutputPath(join(root, 'f.json'), 'dir', '--out')).toThrow(/this is a file; give a directory/);
    expect(() => checkOutputPath(join(root, 'd'), 'file', '--out')).toThrow(/this is a directory; give a file name/);
    expect(() => checkOutputPath(join(root, 'f.json', 'x', 'y'), 'dir', '--out')).toThrow(/f\.json' is a file, so nothing can be created under it/);
  });

  it('a directory this user cannot write is named (as an unprivileged user; root drops to nobody for the check)', () => {
    const root = mkdtempSync(join(tmpdir(), 'lico-out-ro-'));
    chmodSync(root, 0o755);
    const locked = join(root, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o555);
    // Import first (the checkout may be unreadable to nobody), then drop the privileges.
    const script = `
      const { checkOutputPath } = await import(${JSON.stringify(join(here, 'output-path.ts'))});
      ${process.getuid?.() === 0 ? 'process.setgid(65534); process.setuid(65534);' : ''}
      try { checkOutputPath(${JSON.stringify(join(locked, 'run'))}, 'dir', '--out'); console.log('no error'); }
      catch (e) { console.log(e.name + ': ' + e.message); }
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf-8' });
    expect(r.stdout.trim()).toBe(`ConfigError: --out ${join(locked, 'run')}: '${locked}' is not writable by this user.`);
  });
});
