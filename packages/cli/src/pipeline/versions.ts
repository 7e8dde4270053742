/**
 * Versions of the packages a run used, for results.json.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const PACKAGES = [
  '@lico/cli',
  '@lico/core',
  '@lico/backends',
  '@lico/backbones',
  '@lico/text',
  '@lico/losses',
  '@lico/datasets',
  '@lico/cam',
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-backend-cpu',
] as const;

/** `{ package: version }` for lico's packages, tfjs and Node (missing packages are left out). */
export function packageVersions(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const out: Record<string, string> = {};
  for (const name of PACKAGES) {
    try {
      const file = require.resolve(`${name}/package.json`);
      const version = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
      if (typeof version === 'string') out[name] = version;
    } catch {
      // not installed
    }
  }
  out.node = process.versions.node;
  return out;
}
