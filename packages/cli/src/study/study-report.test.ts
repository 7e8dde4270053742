import { describe, expect, test } from 'vitest';
import { svgForestPlot } from './study-report';
import type { PairedDifference } from './statistics';

const diff = (mean: number, ci: [number, number]): PairedDifference => ({ n: 3, mean, sd: 0.1, ci95: ci, seeds: [0, 1, 2], p: 0.04, method: 'paired t (Student, n-1 degrees of freedom)' });
const metric = { key: 'accuracy', label: 'test accuracy <%>', better: 'higher' as const };
const labels = (svg: string) => [...svg.matchAll(/<text x="([\d.]+)" y="[\d.]+" text-anchor="middle" font-size="10">([^<]*)<\/text>/g)].map((m) => ({ x: Number(m[1]), text: m[2] }));

describe('svgForestPlot', () => {
  test('dots and intervals at their closed-form positions; axis labels at both ends and at 0; text escaped', () => {
    // Range [-1, 1] padded by 8 % each side: x = 150 + (v + 1.16) / 2.32 · 294.
    const svg = svgForestPlot(metric, [
      { arm: 'a', diff: diff(-0.5, [-1, 0]) },
      { arm: 'b<', diff: diff(0.5, [0, 1]) },
      { arm: 'none', diff: undefined },
    ]);
    const x = (v: number) => (150 + ((v + 1.16) / 2.32) * 294).toFixed(2);
    expect(svg).toContain(`<circle cx="${x(-0.5)}" cy="37" r="4"`);
    expect(svg).toContain(`d="M${x(0)} 59L${x(1)} 59"`);
    expect(svg).toContain('test accuracy &lt;%&gt; (higher is better)');
    expect(svg).toContain('>b&lt;</text>');
    expect(svg.match(/<circle/g)).toHaveLength(2);
    expect(labels(svg).map((l) => l.text)).toEqual(['-1.0', '0.0', '1.0']);
  });

  test('an end label that would print over the 0 label is left out', () => {
    // Range [-0.1, 0.002]: the right end is 0.002 from 0, about 6 px; the left end stays.
    const svg = svgForestPlot(metric, [{ arm: 'a', diff: diff(-0.05, [-0.1, 0.002]) }]);
    const l = labels(svg);
    expect(l.map((t) => t.text)).toEqual(['-0.10', '0.0']);
    expect(Math.abs(l[1]!.x - l[0]!.x)).toBeGreaterThanOrEqual(36);
  });
});
