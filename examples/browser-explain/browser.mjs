// The test files' shared setup: Debian's Chromium (through playwright-core, which downloads no
// browser) on SwiftShader WebGL, the built example served by serve.mjs (COOP/COEP), and a page that
// records console errors and requests beyond its origin.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from './serve.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
export const CHROMIUM = process.env.LICO_CHROMIUM ?? '/usr/bin/chromium';
/** WebGL on SwiftShader (no GPU here), as CI runs it. */
export const CHROMIUM_ARGS = ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'];

/** Starts the server on `dist/` and Chromium; resolves to { server, browser, close }. */
export async function startBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}: apt-get install -y chromium (CI's .ci/run does), or set LICO_CHROMIUM.`);
  const server = await serve(`${here}dist`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  return { server, browser, close: async () => (await browser.close(), await server.close()) };
}

/** A new page of `browser` whose console errors and foreign requests land in the returned arrays. */
export async function watchedPage(browser, origin) {
  const page = await browser.newPage();
  const errors = [];
  const foreign = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => !r.url().startsWith(origin) && !r.url().startsWith('blob:') && !r.url().startsWith('data:') && foreign.push(r.url()));
  return { page, errors, foreign };
}
