// What the numerics test files share (run under vitest, which reads the TypeScript check modules):
// build the example and the numerics page, start Chromium, open the page.
import { startBrowser, watchedPage } from '../browser.mjs';

/**
 * Builds both pages (numerics/build.mjs builds the example first), starts Chromium and opens the
 * numerics page; `beforeOpen` runs after the build. `open(query)` opens another numerics page.
 */
export async function openNumericsPage(beforeOpen = async () => {}) {
  await import('./build.mjs');
  await beforeOpen();
  const chromium = await startBrowser();
  const open = async (query = '') => {
    const watched = await watchedPage(chromium.browser, chromium.server.url);
    await watched.page.goto(`${chromium.server.url}numerics/${query}`);
    await watched.page.waitForFunction(() => window.licoReady, null, { timeout: 120_000 });
    return watched;
  };
  return { ...chromium, ...(await open()), open };
}
