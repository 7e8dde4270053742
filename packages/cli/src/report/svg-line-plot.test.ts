import { describe, expect, it } from 'vitest';
import { svgLinePlot } from './svg-line-plot';

function paths(svg: string): string[] {
  return [...svg.matchAll(/<path class="series" d="([^"]*)"/g)].map((m) => m[1]!);
}

describe('svgLinePlot', () => {
  it('maps data to pixel coordinates inside the plot area', () => {
    const svg = svgLinePlot([{ label: 'a', x: [0, 1], y: [0, 1] }], { width: 200, height: 100, xRange: [0, 1], yRange: [0, 1] });
    // margins: left 48, right 12, top 12, bottom 40 -> plot area x 48..188, y 12..60
    expect(paths(svg)).toEqual(['M48.00 60.00L188.00 12.00']);
    expect(svg.startsWith('<svg class="plot"')).toBe(true);
    expect(svg.endsWith('</svg>')).toBe(true);
  });

  it('breaks the line at non-finite points and draws one path per series', () => {
    const svg = svgLinePlot(
      [
        { label: 'ins', x: [0, 0.5, 1], y: [0, Number.NaN, 1] },
        { label: 'del', x: [0, 1], y: [1, 0], dashed: true },
      ],
      { width: 200, height: 100, xRange: [0, 1], yRange: [0, 1] },
    );
    const d = paths(svg);
    expect(d).toHaveLength(2);
    expect(d[0]).toBe('M48.00 60.00M188.00 12.00');
    expect(svg).toContain('stroke-dasharray');
  });

  it('escapes titles and labels', () => {
    const svg = svgLinePlot([{ label: '<b>"x"</b>', x: [0, 1], y: [1, 2] }], { title: '<script>', xLabel: '&' });
    expect(svg).not.toContain('<script>');
    expect(svg).not.toContain('<b>');
    expect(svg).toContain('&lt;script&gt;');
    expect(svg).toContain('&lt;b&gt;&quot;x&quot;&lt;/b&gt;');
  });

  it('handles constant and empty data without NaN coordinates', () => {
    const svg = svgLinePlot([{ label: 'flat', x: [0, 1, 2], y: [0.5, 0.5, 0.5] }]);
    expect(svg).not.toContain('NaN');
    expect(paths(svg)[0]).toMatch(/^M[\d.]+ [\d.]+L/);
    expect(svgLinePlot([])).not.toContain('NaN');
  });
});
