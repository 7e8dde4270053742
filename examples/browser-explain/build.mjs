// Builds the static page into dist/: the bundle (esbuild, browser conditions: lico's packages
// resolve to their browser builds), index.html, the tfjs wasm binaries and the assets.
//   node build.mjs
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = fileURLToPath(new URL('.', import.meta.url));

/** Bundles `entry` into `outfile` for the browser (ESM, es2022, with a source map); `options` go to esbuild. */
export function bundleForBrowser(entry, outfile, options = {}) {
  return esbuild.build({ entryPoints: [entry], outfile, bundle: true, format: 'esm', platform: 'browser', target: 'es2022', sourcemap: true, logLevel: 'warning', ...options });
}

await import('./prepare-assets.mjs');
const dist = join(here, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'wasm'), { recursive: true });
await bundleForBrowser(join(here, 'src/main.mjs'), join(dist, 'app.js'), { minify: true });
cpSync(join(here, 'index.html'), join(dist, 'index.html'));
cpSync(join(here, 'assets/model'), join(dist, 'model'), { recursive: true });
cpSync(join(here, 'assets/samples.json'), join(dist, 'samples.json'));
const wasmDir = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
for (const f of readdirSync(wasmDir)) if (f.endsWith('.wasm')) cpSync(join(wasmDir, f), join(dist, 'wasm', f));
console.log(`built ${dist}`);
