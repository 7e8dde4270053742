/**
 * The HTML report: one self-contained page (inline CSS, PNGs as `data:` URIs, plots as inline
 * SVG, no scripts, no external requests) with result tables, insertion/deletion curves, training
 * curves and heatmap grids, runs side by side. Every data-derived string is escaped.
 */
import type { EvaluationResults, ExplanationsIndex, TrainResults } from '../results/results-schema';
import { escapeHtml } from './escape-html';
import { svgLinePlot, type PlotSeries } from './svg-line-plot';

/** One run as the report sees it. */
export interface ReportRun {
  /** Shown as the column/legend name (e.g. the directory name). */
  readonly name: string;
  readonly results?: TrainResults;
  readonly evaluation?: EvaluationResults;
  /** The explanations index and its PNG files by file name. */
  readonly explanations?: { readonly index: ExplanationsIndex; readonly files: ReadonlyMap<string, Uint8Array> };
}

/** Input of {@link renderReport}. */
export interface ReportInput {
  readonly title: string;
  readonly runs: readonly ReportRun[];
  /** A line under the title, e.g. when and how it was made. */
  readonly subtitle?: string;
}

/** The stylesheet of lico's HTML pages. */
export const REPORT_CSS = `
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f4f4f4}td.name,th.name{text-align:left}
.plots{display:flex;flex-wrap:wrap;gap:12px}.grid img{image-rendering:pixelated;width:84px;height:84px;display:block}
.grid td{text-align:center;vertical-align:top;font-size:11px}.note{color:#666;font-size:13px}
pre{background:#f8f8f8;padding:8px;overflow:auto;font-size:12px}
`;

function fmt(v: unknown, digits = 4): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—';
}

function pct(v: unknown): string {
  return typeof v === 'number' && Number.isFinite(v) ? `${(100 * v).toFixed(2)} %` : '—';
}

/** Base64 `data:` URI of PNG bytes. */
export function pngDataUri(bytes: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;
}

function interpretersOf(runs: readonly ReportRun[]): string[] {
  const names = new Set<string>();
  for (const r of runs) for (const k of Object.keys(r.evaluation?.saliency ?? {})) names.add(k);
  return [...names];
}

function summaryTable(runs: readonly ReportRun[]): string {
  const interps = interpretersOf(runs);
  const head = [
    '<th class="name">run</th><th class="name">mode</th><th class="name">backbone</th><th class="name">dataset</th><th>labels</th><th>epochs</th><th>accuracy</th>',
    ...interps.map((i) => `<th>${escapeHtml(i)} insertion ↑</th><th>${escapeHtml(i)} deletion ↓</th>`),
  ].join('');
  const rows = runs.map((r) => {
    const res = r.results;
    const acc = r.evaluation?.accuracy ?? res?.final.accuracy;
    const cells = [
      `<td class="name">${escapeHtml(r.name)}</td>`,
      `<td class="name">${escapeHtml(res?.mode ?? '—')}</td>`,
      `<td class="name">${escapeHtml(res?.backbone.name ?? '—')}</td>`,
      `<td class="name">${escapeHtml(res?.dataset.spec ?? r.evaluation?.dataset ?? '—')}</td>`,
      `<td>${escapeHtml(res?.dataset.labels ?? '—')}</td>`,
      `<td>${escapeHtml(res?.final.epochs ?? '—')}</td>`,
      `<td>${pct(acc)}</td>`,
      ...interps.map((i) => {
        const s = r.evaluation?.saliency[i];
        return `<td>${fmt(s?.insertion)}</td><td>${fmt(s?.deletion)}</td>`;
      }),
    ];
    return `<tr>${cells.join('')}</tr>`;
  });
  return `<table class="summary"><thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** A metric the report's metric table can show: which way is better and where its value is. */
export interface ReportMetric {
  readonly label: string;
  readonly better: 'higher' | 'lower';
  /** Shown as a percentage (a fraction in [0,1]) or as a number. */
  readonly format: 'percent' | 'number';
  readonly value: (evaluation: EvaluationResults, interpreter: string) => number | undefined;
}

/** Every per-interpreter metric an evaluation can hold, in table order. */
export const REPORT_METRICS: readonly ReportMetric[] = [
  { label: 'insertion AUC', better: 'higher', format: 'number', value: (e, i) => e.saliency[i]?.insertion },
  { label: 'deletion AUC', better: 'lower', format: 'number', value: (e, i) => e.saliency[i]?.deletion },
  { label: 'pointing game', better: 'higher', format: 'percent', value: (e, i) => e.localisation?.[i]?.pointingGame },
  { label: 'energy in mask', better: 'higher', format: 'percent', value: (e, i) => e.localisation?.[i]?.energyInMask },
  { label: 'ROAD combined', better: 'higher', format: 'number', value: (e, i) => e.metrics?.[i]?.roadCombined },
  { label: 'ROAD MoRF (mean change of the logit)', better: 'lower', format: 'number', value: (e, i) => e.metrics?.[i]?.roadMorf },
  { label: 'ROAD LeRF (mean change of the logit)', better: 'higher', format: 'number', value: (e, i) => e.metrics?.[i]?.roadLerf },
  { label: 'sparseness (Gini)', better: 'higher', format: 'number', value: (e, i) => e.metrics?.[i]?.sparseness },
  { label: 'max-sensitivity', better: 'lower', format: 'number', value: (e, i) => e.metrics?.[i]?.maxSensitivity },
];

function allInterpreters(runs: readonly ReportRun[]): string[] {
  const names = new Set<string>();
  for (const r of runs) {
    const e = r.evaluation;
    for (const k of [...Object.keys(e?.saliency ?? {}), ...Object.keys(e?.localisation ?? {}), ...Object.keys(e?.metrics ?? {})]) names.add(k);
  }
  return [...names];
}

/**
 * One row per (interpreter, metric) that any run measured, with a column saying which way is
 * better and one column per run.
 */
function metricTable(runs: readonly ReportRun[]): string {
  const rows: string[] = [];
  for (const interp of allInterpreters(runs)) {
    for (const m of REPORT_METRICS) {
      const values = runs.map((r) => (r.evaluation ? m.value(r.evaluation, interp) : undefined));
      if (values.every((v) => v === undefined)) continue;
      const cells = values.map((v) => `<td>${m.format === 'percent' ? pct(v) : fmt(v)}</td>`).join('');
      rows.push(`<tr><td class="name">${escapeHtml(interp)}</td><td class="name">${escapeHtml(m.label)}</td><td class="better">${m.better === 'higher' ? 'higher ↑' : 'lower ↓'}</td>${cells}</tr>`);
    }
  }
  if (rows.length === 0) return '';
  const head = `<tr><th class="name">interpreter</th><th class="name">metric</th><th>better</th>${runs.map((r) => `<th>${escapeHtml(r.name)}</th>`).join('')}</tr>`;
  return `<h2>Metrics</h2><p class="note">Every measured metric of every interpreter; the "better" column says which direction is better.</p><table class="metrics"><thead>${head}</thead><tbody>${rows.join('')}</tbody></table>`;
}

function curvePlots(runs: readonly ReportRun[]): string {
  const interps = interpretersOf(runs);
  if (interps.length === 0) return '<p class="note">No saliency evaluation in these runs.</p>';
  const blocks: string[] = [];
  for (const interp of interps) {
    for (const kind of ['insertion', 'deletion'] as const) {
      const series: PlotSeries[] = [];
      runs.forEach((r) => {
        const s = r.evaluation?.saliency[interp];
        const curve = s ? (kind === 'insertion' ? s.insertionCurve : s.deletionCurve) : undefined;
        if (!curve || curve.length === 0) return;
        const n = curve.length;
        series.push({ label: `${r.name} (AUC ${fmt(s![kind], 3)})`, x: curve.map((_, k) => (n === 1 ? 0 : k / (n - 1))), y: curve });
      });
      if (series.length === 0) continue;
      blocks.push(
        svgLinePlot(series, {
          title: `${interp}: ${kind}`,
          xLabel: kind === 'insertion' ? 'fraction of pixels inserted' : 'fraction of pixels deleted',
          yLabel: 'p(target class)',
          xRange: [0, 1],
          yRange: [0, 1],
        }),
      );
    }
  }
  return `<div class="plots">${blocks.join('')}</div>`;
}

function trainingPlots(runs: readonly ReportRun[]): string {
  const loss: PlotSeries[] = [];
  const acc: PlotSeries[] = [];
  for (const r of runs) {
    const h = r.results?.history ?? [];
    if (h.length === 0) continue;
    loss.push({ label: r.name, x: h.map((e) => e.epoch), y: h.map((e) => e.loss) });
    acc.push({ label: r.name, x: h.map((e) => e.epoch), y: h.map((e) => e.trainAccuracy) });
  }
  if (loss.length === 0) return '';
  return `<h2>Training</h2><div class="plots">${svgLinePlot(loss, { title: 'training loss per epoch', xLabel: 'epoch', yLabel: 'loss' })}${svgLinePlot(acc, {
    title: 'training accuracy per epoch',
    xLabel: 'epoch',
    yLabel: 'accuracy',
    yRange: [0, 1],
  })}</div>`;
}

function localisationTable(runs: readonly ReportRun[]): string {
  const rows: string[] = [];
  for (const r of runs) {
    for (const [interp, l] of Object.entries(r.evaluation?.localisation ?? {})) {
      rows.push(
        `<tr><td class="name">${escapeHtml(r.name)}</td><td class="name">${escapeHtml(interp)}</td><td>${pct(l.pointingGame)}</td><td>${pct(l.energyInMask)}</td><td>${escapeHtml(l.numImages)}</td></tr>`,
      );
    }
  }
  if (rows.length === 0) return '';
  return `<h2>Localisation</h2><table><thead><tr><th class="name">run</th><th class="name">interpreter</th><th>pointing game</th><th>energy in mask</th><th>images</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function img(files: ReadonlyMap<string, Uint8Array>, name: string | undefined, alt: string): string {
  const bytes = name === undefined ? undefined : files.get(name);
  if (!bytes) return '<span class="note">missing</span>';
  return `<img src="${pngDataUri(bytes)}" alt="${escapeHtml(alt)}" title="${escapeHtml(name)}">`;
}

function heatmapGrid(runs: readonly ReportRun[]): string {
  const withExpl = runs.filter((r) => r.explanations && r.explanations.index.items.length > 0);
  if (withExpl.length === 0) return '';
  // Rows: images (by dataset index, in the first run's order); columns: input, then each run's overlays.
  const first = withExpl[0]!.explanations!.index;
  const header = [
    '<th>input</th>',
    ...withExpl.flatMap((r) => r.explanations!.index.interpreters.map((i) => `<th>${escapeHtml(r.name)}<br>${escapeHtml(i)}</th>`)),
  ].join('');
  const rows = first.items.map((item) => {
    const cells = [`<td>${img(withExpl[0]!.explanations!.files, item.input, `input ${item.index}`)}${escapeHtml(item.labelName)}</td>`];
    for (const r of withExpl) {
      const e = r.explanations!;
      const own = e.index.items.find((x) => x.index === item.index);
      for (const interp of e.index.interpreters) {
        const caption = own ? `pred: ${own.predictedName}` : 'not explained';
        cells.push(`<td>${img(e.files, own?.overlays[interp], `${r.name} ${interp} ${item.index}`)}${escapeHtml(caption)}</td>`);
      }
    }
    return `<tr>${cells.join('')}</tr>`;
  });
  return `<h2>Heatmaps</h2><p class="note">Overlays of each run's saliency on the same test images (label under the input, each model's prediction under its maps).</p><table class="grid"><thead><tr>${header}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function configSection(runs: readonly ReportRun[]): string {
  const blocks = runs
    .filter((r) => r.results)
    .map((r) => {
      const { history: _history, ...rest } = r.results!;
      return `<details><summary>${escapeHtml(r.name)}</summary><pre>${escapeHtml(JSON.stringify(rest, null, 2))}</pre></details>`;
    });
  return blocks.length ? `<h2>Configuration</h2>${blocks.join('')}` : '';
}

/**
 * A self-contained HTML document around `body`: no scripts and no requests (the Content Security
 * Policy allows only inline styles and `data:` images), lico's stylesheet, `title` escaped.
 */
export function htmlDocument(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${REPORT_CSS}</style></head>
<body>
${body}
</body></html>
`;
}

/** Renders the whole report as one HTML document (a string). */
export function renderReport(input: ReportInput): string {
  const body = [
    `<h1>${escapeHtml(input.title)}</h1>`,
    input.subtitle ? `<p class="note">${escapeHtml(input.subtitle)}</p>` : '',
    '<h2>Results</h2>',
    summaryTable(input.runs),
    '<p class="note">Insertion: area under the probability of the target class as pixels are restored in saliency order into a blurred copy (higher is better). Deletion: as they are removed (lower is better).</p>',
    metricTable(input.runs),
    '<h2>Insertion and deletion curves</h2>',
    curvePlots(input.runs),
    trainingPlots(input.runs),
    localisationTable(input.runs),
    heatmapGrid(input.runs),
    configSection(input.runs),
  ].join('\n');
  return htmlDocument(input.title, body);
}
