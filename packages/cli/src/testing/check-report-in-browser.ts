/**
 * Test support (not exported): opens an HTML file in Debian's headless Chromium through
 * playwright-core and reports what rendered and which requests the page tried to make.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

/** Where Debian installs Chromium; CI installs it with `apt-get install chromium`. */
export const CHROMIUM_PATH = process.env.LICO_CHROMIUM ?? '/usr/bin/chromium';

/** What the page showed. */
export interface BrowserCheck {
  /** Every `<img>`: its alt text, natural size and whether it finished loading. */
  readonly images: { alt: string; naturalWidth: number; naturalHeight: number; complete: boolean }[];
  /** Every plot `<svg class="plot">`: its rendered size and the `d` of its series paths. */
  readonly plots: { width: number; height: number; pathLengths: number[]; pathBoxes: { width: number; height: number }[] }[];
  /** Requests to anything but the file itself or `data:` URIs. */
  readonly externalRequests: string[];
  /** Errors the page reported (console errors, page errors). */
  readonly errors: string[];
  /** `document.title`. */
  readonly title: string;
  /** Number of `<script>` elements (the report has none). */
  readonly scripts: number;
  /** The page's visible text. */
  readonly text: string;
}

/** Loads `file` in headless Chromium and collects a {@link BrowserCheck}. */
export async function checkReportInBrowser(file: string): Promise<BrowserCheck> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}: the report test needs a real browser. Install it with 'apt-get install -y chromium' (CI's .ci/run does), or set LICO_CHROMIUM to its path.`,
    );
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
  try {
    const page = await browser.newPage();
    const url = pathToFileURL(file).href;
    const externalRequests: string[] = [];
    const errors: string[] = [];
    await page.route('**/*', async (route) => {
      const u = route.request().url();
      if (u === url || u.startsWith('data:')) await route.continue();
      else {
        externalRequests.push(u);
        await route.abort();
      }
    });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url, { waitUntil: 'load' });
    const result = await page.evaluate(async () => {
      const imgs = Array.from(document.querySelectorAll('img'));
      await Promise.all(imgs.map((i) => (i.complete ? Promise.resolve() : new Promise((r) => i.addEventListener('load', r, { once: true })))).map((p) => p.catch(() => undefined)));
      await Promise.all(imgs.map((i) => i.decode().catch(() => undefined)));
      return {
        images: imgs.map((i) => ({ alt: i.alt, naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight, complete: i.complete })),
        plots: Array.from(document.querySelectorAll('svg.plot')).map((svg) => {
          const r = svg.getBoundingClientRect();
          const paths = Array.from(svg.querySelectorAll('path.series')) as SVGPathElement[];
          return {
            width: r.width,
            height: r.height,
            pathLengths: paths.map((p) => (p.getAttribute('d') ?? '').length),
            pathBoxes: paths.map((p) => {
              const b = p.getBBox();
              return { width: b.width, height: b.height };
            }),
          };
        }),
        title: document.title,
        scripts: document.querySelectorAll('script').length,
        text: document.body.innerText,
      };
    });
    return { ...result, externalRequests, errors };
  } finally {
    await browser.close();
  }
}
