// Each isomorphic package bundles for the browser (esbuild, platform browser, the `browser`
// export condition) with no Node built-in; the Node entry of @lico/core does not (the check can fail).
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { describe, expect, it } from 'vitest';

const ISOMORPHIC = ['@lico/core', '@lico/losses', '@lico/cam', '@lico/backbones', '@lico/text', '@lico/backends'];

async function bundle(pkg, conditions) {
  const result = await esbuild.build({
    stdin: { contents: `export * from '${pkg}';`, resolveDir: new URL('.', import.meta.url).pathname },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    conditions,
    // tfjs is the page's own dependency; lico's siblings are bundled too (their browser builds).
    external: ['@tensorflow/*'],
    logLevel: 'silent',
    metafile: true,
  });
  return result;
}

describe('browser bundles', () => {
  it.each(ISOMORPHIC)('%s bundles for the browser with no Node built-in', async (pkg) => {
    const result = await bundle(pkg, ['browser']);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((f) => /^node:|^(fs|path|os|crypto|zlib|stream|util|module|worker_threads)$/.test(f))).toEqual([]);
    expect(inputs.some((f) => f.includes('node-builtins.browser') || f.includes('zlib.browser') || !f.includes('platform'))).toBe(true);
    expect(result.outputFiles[0].text.length).toBeGreaterThan(1000);
  });

  it("fails for @lico/core's Node build (dist/index.js), naming the built-in: the check can fail", async () => {
    const nodeBuild = fileURLToPath(new URL('../../packages/core/dist/index.js', import.meta.url));
    await expect(bundle(nodeBuild, [])).rejects.toThrow(/Could not resolve "(crypto|fs|os|path)"/);
  });
});
