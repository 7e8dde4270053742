import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkReportInBrowser } from '../testing/check-report-in-browser';
import { fakeRuns, HOSTILE_NAMES } from '../testing/report-fixture';
import { renderReport } from './render-report';

describe('renderReport (as text)', () => {
  const html = renderReport({ title: 'LICO <report>', subtitle: 'made by "tests"', runs: fakeRuns() });

  it('is one self-contained document: no scripts, no external URLs, a strict CSP', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)="(?!data:)/);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html).toContain("default-src 'none'");
  });

  it('escapes every data-derived name', () => {
    for (const name of HOSTILE_NAMES) expect(html).not.toContain(name);
    expect(html).toContain('&lt;script&gt;window.__pwned=1&lt;/script&gt;');
    expect(html).toContain('lico &quot;&amp;&#39;');
    expect(html).toContain('&lt;b&gt;cam&lt;/b&gt;');
    expect(html).not.toContain('<b>cam</b>');
    expect(html).toContain('<title>LICO &lt;report&gt;</title>');
  });

  it('has the tables, one plot per interpreter and curve kind plus training plots, and every image inline', () => {
    expect(html.match(/<svg class="plot"/g)).toHaveLength(2 * 2 + 2);
    // 3 inputs + 3 images × 2 interpreters × 2 runs
    expect(html.match(/<img src="data:image\/png;base64,/g)).toHaveLength(3 + 12);
    expect(html).toContain('80.00 %');
    expect(html).toContain('85.00 %');
    expect(html).toContain('Localisation');
  });

  it('has a metric table that says for every metric whether higher or lower is better', () => {
    const table = html.slice(html.indexOf('<table class="metrics">'), html.indexOf('</table>', html.indexOf('<table class="metrics">')));
    const rows = table.match(/<tr><td class="name">/g) ?? [];
    // gradCam: insertion, deletion, pointing game, energy, ROAD ×3, sparseness, max-sensitivity; <b>cam</b>: insertion, deletion, sparseness
    expect(rows).toHaveLength(9 + 3);
    expect(table.match(/<td class="better">(higher ↑|lower ↓)<\/td>/g)).toHaveLength(12);
    const row = (interp: string, metric: string) => new RegExp(`<td class="name">${interp}</td><td class="name">${metric.replace(/[()]/g, '\\$&')}</td><td class="better">([^<]*)</td>`).exec(table)?.[1];
    expect(row('gradCam', 'insertion AUC')).toBe('higher ↑');
    expect(row('gradCam', 'deletion AUC')).toBe('lower ↓');
    expect(row('gradCam', 'pointing game')).toBe('higher ↑');
    expect(row('gradCam', 'ROAD combined')).toBe('higher ↑');
    expect(row('gradCam', 'ROAD MoRF (mean change of the logit)')).toBe('lower ↓');
    expect(row('gradCam', 'ROAD LeRF (mean change of the logit)')).toBe('higher ↑');
    expect(row('gradCam', 'sparseness (Gini)')).toBe('higher ↑');
    expect(row('gradCam', 'max-sensitivity')).toBe('lower ↓');
    expect(row('&lt;b&gt;cam&lt;/b&gt;', 'sparseness (Gini)')).toBe('higher ↑');
    expect(row('&lt;b&gt;cam&lt;/b&gt;', 'max-sensitivity')).toBeUndefined();
    // one value column per run
    expect(table).toContain('<td>0.0300</td><td>0.0800</td>');
  });

  it('renders runs that only have results, without NaN', () => {
    const runs = fakeRuns().map((r) => ({ name: r.name, results: r.results! }));
    const page = renderReport({ title: 't', runs });
    expect(page).toContain('No saliency evaluation');
    expect(page).not.toContain('NaN');
  });
});

describe('renderReport in headless Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lico-report-'));

  it('renders every image and plot and makes no network request', async () => {
    const file = join(dir, 'report <&>.html');
    writeFileSync(file, renderReport({ title: 'LICO <report>', runs: fakeRuns() }));
    const check = await checkReportInBrowser(file);
    expect(check.title).toBe('LICO <report>');
    expect(check.scripts).toBe(0);
    expect(check.images).toHaveLength(15);
    for (const img of check.images) {
      expect(img.complete).toBe(true);
      expect(img.naturalWidth).toBeGreaterThan(0);
    }
    expect(check.images.filter((i) => i.naturalWidth === 16)).toHaveLength(12);
    expect(check.plots).toHaveLength(6);
    for (const plot of check.plots) {
      expect(plot.width).toBeGreaterThan(100);
      expect(plot.pathLengths.length).toBeGreaterThanOrEqual(1);
      for (const n of plot.pathLengths) expect(n).toBeGreaterThan(0);
      for (const b of plot.pathBoxes) expect(b.width).toBeGreaterThan(0);
    }
    expect(check.externalRequests).toEqual([]);
    expect(check.errors).toEqual([]);
    // Hostile names show up as text, not markup.
    expect(check.text).toContain('<script>window.__pwned=1</script>');
    expect(check.text).toContain(`lico "&'`);
  });

  it('detects a page that requests something from outside (the check can fail)', async () => {
    const file = join(dir, 'bad.html');
    writeFileSync(file, '<!doctype html><title>bad</title><img src="http://127.0.0.1:9/x.png" alt="x"><img src="data:image/png;base64,AAAA" alt="broken">');
    const check = await checkReportInBrowser(file);
    expect(check.externalRequests).toEqual(['http://127.0.0.1:9/x.png']);
    expect(check.images.map((i) => i.naturalWidth)).toEqual([0, 0]);
  });
});
