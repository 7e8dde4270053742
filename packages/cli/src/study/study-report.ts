/**
 * The study's report page: the status, one forest plot (SVG) per metric of every arm's paired
 * difference to the baseline with its 95 % interval, the table of means and differences, the
 * validation curves and the protocol. Self-contained (no scripts, no requests); all text escaped.
 */
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '@lico/core';
import { escapeHtml } from '../report/escape-html';
import { htmlDocument } from '../report/render-report';
import { PLOT_PALETTE, svgLinePlot } from '../report/svg-line-plot';
import type { PairedDifference } from './statistics';
import type { MetricInfo, StudyResults, StudyRunRecord } from './study-results';

function num(v: number | null | undefined, digits = 4): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—';
}

function interval(ci: readonly [number, number] | null | undefined, digits = 4): string {
  return ci ? `[${num(ci[0], digits)}, ${num(ci[1], digits)}]` : '—';
}

/**
 * A forest plot: one row per arm, its paired difference to the baseline as a dot with the 95 %
 * interval as a line, and a vertical line at 0 (no difference).
 */
export function svgForestPlot(metric: MetricInfo, rows: readonly { arm: string; diff: PairedDifference | undefined }[]): string {
  const width = 460;
  const rowH = 22;
  const margin = { left: 150, right: 16, top: 26, bottom: 34 };
  const height = margin.top + margin.bottom + rowH * Math.max(1, rows.length);
  const pw = width - margin.left - margin.right;
  const values = rows.flatMap((r) => (r.diff ? [r.diff.mean, ...(r.diff.ci95 ?? [])] : []));
  let lo = Math.min(0, ...values);
  let hi = Math.max(0, ...values);
  if (!(hi > lo)) [lo, hi] = [-1e-3, 1e-3];
  const pad = (hi - lo) * 0.08;
  lo -= pad;
  hi += pad;
  const sx = (v: number) => margin.left + ((v - lo) / (hi - lo)) * pw;
  const parts = [
    `<svg class="plot forest" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(`forest plot: ${metric.label}`)}">`,
    `<text x="${width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${escapeHtml(`${metric.label} (${metric.better} is better)`)}</text>`,
    `<line x1="${sx(0).toFixed(1)}" y1="${margin.top - 4}" x2="${sx(0).toFixed(1)}" y2="${height - margin.bottom + 4}" stroke="#999" stroke-dasharray="4 3"/>`,
  ];
  // Axis labels at the data's ends and at 0; an end label closer than 36 px to the 0 label is left
  // out (it would print over it).
  const ticks = [lo + pad, 0, hi - pad].filter((t) => t === 0 || Math.abs(sx(t) - sx(0)) >= 36);
  for (const t of ticks) {
    parts.push(`<text x="${sx(t).toFixed(1)}" y="${height - margin.bottom + 16}" text-anchor="middle" font-size="10">${escapeHtml(t.toPrecision(2))}</text>`);
  }
  parts.push(`<text x="${margin.left + pw / 2}" y="${height - 4}" text-anchor="middle" font-size="11">arm − baseline (paired, 95 % CI)</text>`);
  rows.forEach((r, i) => {
    const y = margin.top + rowH * i + rowH / 2;
    const color = PLOT_PALETTE[i % PLOT_PALETTE.length]!;
    parts.push(`<text x="${margin.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="11">${escapeHtml(r.arm)}</text>`);
    if (!r.diff) return;
    const d = r.diff;
    const title = `${r.arm}: ${num(d.mean)} ${interval(d.ci95)} (n = ${d.n}${d.p !== null ? `, p = ${d.p.toFixed(3)}` : ''})`;
    if (d.ci95) {
      parts.push(`<path class="series" d="M${sx(d.ci95[0]).toFixed(2)} ${y}L${sx(d.ci95[1]).toFixed(2)} ${y}" stroke="${color}" stroke-width="2"><title>${escapeHtml(title)}</title></path>`);
    }
    parts.push(`<circle cx="${sx(d.mean).toFixed(2)}" cy="${y}" r="4" fill="${color}"><title>${escapeHtml(title)}</title></circle>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

function table(results: StudyResults): string {
  const arms = results.definition.arms.map((a) => a.name);
  const base = results.definition.baseline;
  const head = `<tr><th class="name">metric</th><th>better</th>${arms.map((a) => `<th>${escapeHtml(a)}${a === base ? ' (baseline)' : ''}</th>`).join('')}</tr>`;
  const rows = results.metrics.map((m) => {
    const cells = arms.map((a) => {
      const s = results.arms[a]?.[m.key];
      const d = results.paired[a]?.[m.key];
      const mean = s ? `${num(s.mean)} ${interval(s.ci95)} <span class="note">n=${s.n}</span>` : '—';
      const diff = d ? `<br><span class="note">Δ ${num(d.mean)} ${interval(d.ci95)}${d.p !== null ? ` p=${d.p.toFixed(3)}` : ''}</span>` : '';
      return `<td>${mean}${diff}</td>`;
    });
    return `<tr><td class="name">${escapeHtml(m.label)}</td><td>${m.better}</td>${cells.join('')}</tr>`;
  });
  return `<table><thead>${head}</thead><tbody>${rows.join('')}</tbody></table>`;
}

/** The epochs a run's validation curve was measured after (every epoch for records without them). */
function epochsOf(r: StudyRunRecord): number[] {
  return r.validationEpochs ? [...r.validationEpochs] : r.validationCurve!.map((_, e) => e + 1);
}

function curves(results: StudyResults): string {
  const plots: string[] = [];
  const series = results.definition.arms.flatMap((arm) => {
    const runs = results.runs.filter((r) => r.arm === arm.name && r.validationCurve && r.validationCurve.length > 0);
    if (runs.length === 0) return [];
    const len = Math.min(...runs.map((r) => r.validationCurve!.length));
    const y = Array.from({ length: len }, (_, e) => runs.reduce((a, r) => a + r.validationCurve![e]!, 0) / runs.length);
    return [{ label: `${arm.name} (${runs.length} seeds)`, x: y.map((_, e) => epochsOf(runs[0]!)[e]!), y }];
  });
  if (series.length > 0) plots.push(svgLinePlot(series, { title: 'validation accuracy (mean over seeds)', xLabel: 'epoch', yLabel: 'accuracy', width: 520, height: 300 }));
  const baseRuns = results.runs.filter((r) => r.arm === results.definition.baseline && r.validationCurve?.length);
  if (baseRuns.length > 0) {
    plots.push(
      svgLinePlot(
        baseRuns.map((r) => ({ label: `seed ${r.seed}`, x: epochsOf(r), y: [...r.validationCurve!] })),
        { title: `validation accuracy of the baseline arm, per seed`, xLabel: 'epoch', yLabel: 'accuracy', width: 520, height: 300 },
      ),
    );
  }
  return plots.length ? `<h2>Validation curves</h2><div class="plots">${plots.join('')}</div>` : '';
}

function runTable(results: StudyResults): string {
  const keys = results.metrics.map((m) => m.key);
  const head = `<tr><th class="name">run</th><th>status</th>${keys.map((k) => `<th>${escapeHtml(k)}</th>`).join('')}<th>train s</th><th>eval s</th></tr>`;
  const rows = results.runs.map(
    (r) =>
      `<tr><td class="name">${escapeHtml(r.id)}</td><td>${r.status}</td>${keys.map((k) => `<td>${num(r.metrics[k])}</td>`).join('')}<td>${num(r.trainSeconds, 0)}</td><td>${num(r.evalSeconds, 0)}</td></tr>`,
  );
  return `<details><summary>Every run (${results.runsDone} of ${results.runsTotal} done)</summary><table><thead>${head}</thead><tbody>${rows.join('')}</tbody></table></details>`;
}

/** Renders the study page as one HTML document. */
export function renderStudyReport(results: StudyResults): string {
  const d = results.definition;
  const title = `lico study: ${d.name}`;
  const arms = d.arms.filter((a) => a.name !== d.baseline).map((a) => a.name);
  const forest = results.metrics.map((m) => svgForestPlot(m, arms.map((arm) => ({ arm, diff: results.paired[arm]?.[m.key] }))));
  const shards = results.shards.map((s) => `${s.index}/${s.count}`).join(', ');
  const body = [
    `<h1>${escapeHtml(title)}</h1>`,
    d.description ? `<p>${escapeHtml(d.description)}</p>` : '',
    `<p class="note">${escapeHtml(d.dataset)}; seeds ${escapeHtml(d.seeds.join(', '))}; ${d.arms.length} arms; baseline arm '${escapeHtml(d.baseline)}'. ` +
      `${results.complete ? 'Complete' : `<strong>Incomplete</strong>: ${results.runsDone} of ${results.runsTotal} runs of shard(s) ${escapeHtml(shards)} done`}; ` +
      `definition ${escapeHtml(results.fingerprint.slice(0, 12))}; updated ${escapeHtml(results.updatedAt)}.</p>`,
    '<h2>Paired differences to the baseline</h2>',
    `<p class="note">${escapeHtml(results.pairedMethod)}. An interval that contains 0 means no difference was detected at this number of seeds.</p>`,
    `<div class="plots">${forest.join('')}</div>`,
    '<h2>Means</h2>',
    '<p class="note">Each cell: the mean over seeds with its 95 % interval (Student t), and under it the paired difference to the baseline (Δ) with its interval and the paired t test\'s p.</p>',
    table(results),
    curves(results),
    runTable(results),
    '<h2>Protocol</h2>',
    `<pre>${escapeHtml(JSON.stringify({ definition: d, protocol: results.protocol }, null, 2))}</pre>`,
    '<h2>Machines</h2>',
    `<pre>${escapeHtml(JSON.stringify(results.machines, null, 2))}</pre>`,
  ].join('\n');
  return htmlDocument(title, body);
}

function mdNum(v: number | null | undefined, scale: number, digits: number): string {
  return typeof v === 'number' && Number.isFinite(v) ? (v * scale).toFixed(digits) : '—';
}

/**
 * The study as Markdown: per metric, each arm's mean with its 95 % interval (n seeds), and each
 * non-baseline arm's paired difference to the baseline with its interval and p. Accuracies and
 * localisation scores in percent, AUCs as fractions.
 */
export function renderStudyMarkdown(results: StudyResults): string {
  const d = results.definition;
  const lines = [
    `# lico study: ${d.name}`,
    '',
    `${d.dataset}; seeds ${d.seeds.join(', ')}; baseline arm \`${d.baseline}\`; ${results.runsDone} of ${results.runsTotal} runs done${results.complete ? '' : ' (incomplete)'}; definition ${results.fingerprint.slice(0, 12)}.`,
    `Intervals: ${results.pairedMethod}.`,
    '',
  ];
  for (const m of results.metrics) {
    const percent = m.key === 'accuracy' || m.key === 'validationAccuracy' || m.key.startsWith('pointingGame.') || m.key.startsWith('energyInMask.');
    const scale = percent ? 100 : 1;
    const digits = percent ? 2 : 4;
    const unit = percent ? ' (%)' : '';
    lines.push(`## ${m.label}${unit}, ${m.better} is better`, '', '| arm | n | mean | 95 % CI | Δ vs baseline | 95 % CI of Δ | p |', '|---|---|---|---|---|---|---|');
    for (const arm of d.arms) {
      const s = results.arms[arm.name]?.[m.key];
      const p = results.paired[arm.name]?.[m.key];
      const ci = (c: readonly [number, number] | null | undefined) => (c ? `[${mdNum(c[0], scale, digits)}, ${mdNum(c[1], scale, digits)}]` : '—');
      lines.push(
        `| ${arm.name} | ${s?.n ?? 0} | ${mdNum(s?.mean, scale, digits)} | ${ci(s?.ci95)} | ${arm.name === d.baseline ? '' : mdNum(p?.mean, scale, digits)} | ${arm.name === d.baseline ? '' : ci(p?.ci95)} | ${p?.p != null ? p.p.toFixed(3) : ''} |`,
      );
    }
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

/** Writes the study page (`report.html`) and its Markdown summary (`summary.md` beside it) atomically. */
export async function writeStudyReport(results: StudyResults, file: string): Promise<void> {
  await writeFileAtomic(file, renderStudyReport(results));
  await writeFileAtomic(join(dirname(file), 'summary.md'), renderStudyMarkdown(results));
}
