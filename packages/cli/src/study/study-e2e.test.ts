/**
 * End-to-end tests of `lico study` with the built binary: a tiny study unsharded, as two shard
 * processes side by side and merged (equal metrics), interrupted and resumed (equal metrics, no
 * finished run redone), its report in headless Chromium, and bad input (exit 2, nothing written).
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkReportInBrowser } from '../testing/check-report-in-browser';
import { BIN, lico } from '../testing/run-lico';
import type { StudyResults } from './study-results';

const root = mkdtempSync(join(tmpdir(), 'lico-study-e2e-'));
const STUDY = {
  name: 'tiny',
  description: 'two arms, two seeds, a few images',
  dataset: 'fashion-mnist',
  seeds: [0, 1],
  baseline: 'base',
  common: { backbone: 'wrn-10-1', labels: 40, validation: 20, epochs: 2, 'batch-size': 8 },
  arms: [
    { name: 'base', options: { mode: 'baseline' } },
    { name: 'authors', options: { 'mm-sign': 'plus', 'ot-gradient': 'none', 'prompt-variants': 'shift-one', 'weight-decay': 5e-4 } },
  ],
  evaluation: { interpreters: ['gradCam', 'rise'], saliencyImages: 4, stepSize: 196, riseMasks: 16, evalSize: 40 },
};
const file = join(root, 'tiny.json');
const COMMON = ['--backend', 'wasm', '--threads', '1'];
const read = (dir: string) => JSON.parse(readFileSync(join(dir, 'study.json'), 'utf8')) as StudyResults;
const metricsOf = (s: StudyResults) => s.runs.map((r) => ({ id: r.id, status: r.status, metrics: r.metrics, curve: r.validationCurve }));

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build the CLI first (npx nx run @lico/cli:build); nx does it before 'test'.`);
  writeFileSync(file, JSON.stringify(STUDY));
});

describe('lico study', () => {
  // Five `lico study` processes (three at once): ~40 s on a quiet machine, over 120 s on a loaded one.
  it('unsharded = two shard processes merged; interrupted + resumed = uninterrupted; the report renders', { timeout: 600_000 }, async () => {
    const whole = join(root, 'whole');
    const [a, s1, s2] = await Promise.all([
      lico(['study', '--study', file, '--out', whole, ...COMMON]),
      lico(['study', '--study', file, '--out', join(root, 'shard-1'), '--shard', '1/2', ...COMMON]),
      lico(['study', '--study', file, '--out', join(root, 'shard-2'), '--shard', '2/2', ...COMMON]),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(s1.code, s1.stderr).toBe(0);
    expect(s2.code, s2.stderr).toBe(0);
    expect(a.stderr).toMatch(/study +100% \|/); // one bar over all runs
    const w = read(whole);
    expect(w.complete).toBe(true);
    expect(w.runsDone).toBe(4);
    expect(read(join(root, 'shard-1')).runs.map((r) => r.id)).toEqual(['base/seed-0', 'base/seed-1']);
    const merged = join(root, 'merged');
    const m = await lico(['study', 'merge', join(root, 'shard-2'), join(root, 'shard-1'), '--out', merged]);
    expect(m.code, m.stderr).toBe(0);
    const mr = read(merged);
    expect(mr.complete).toBe(true);
    expect(metricsOf(mr)).toEqual(metricsOf(w));
    expect(mr.arms).toEqual(w.arms);
    expect(mr.paired).toEqual(w.paired);

    // What the file records: every run's metrics, intervals, paired differences, the protocol.
    const run = w.runs[0]!;
    expect(Object.keys(run.metrics).sort()).toEqual(['accuracy', 'deletion.gradCam', 'deletion.rise', 'insertion.gradCam', 'insertion.rise', 'validationAccuracy']);
    expect(run.validationCurve).toHaveLength(2);
    expect(run.validationEpochs).toEqual([1, 2]);
    const d = w.paired.authors!.accuracy!;
    const byId = new Map(w.runs.map((r) => [r.id, r.metrics.accuracy!]));
    expect(d.mean).toBeCloseTo((byId.get('authors/seed-0')! - byId.get('base/seed-0')! + byId.get('authors/seed-1')! - byId.get('base/seed-1')!) / 2, 12);
    expect(d.method).toMatch(/paired t/);
    expect(w.definition.arms[1]!.options).toMatchObject({ 'ot-gradient': 'none', 'mm-sign': 'plus' });
    const trained = JSON.parse(readFileSync(join(whole, 'runs', 'authors', 'seed-0', 'results.json'), 'utf8')) as { objective: Record<string, unknown>; training: Record<string, unknown> };
    expect(trained.objective).toMatchObject({ mm: { sign: 'positive' }, ot: { gradient: 'none' }, promptLearner: { variants: 'shift-one' } });
    expect(trained.training).toMatchObject({ augment: { name: 'crop' }, validation: { size: 20 } });
    // Pairing: both arms of a seed trained on the same labelled images in the same order (same first-epoch batches ⇒ same baseline/LICO start).
    expect(w.machines[0]!.cpu).toBeTruthy();

    // Interrupt during the second run, then run again: the finished run is kept, the rest resumes.
    const again = join(root, 'again');
    const stopped = await lico(['study', '--study', file, '--out', again, ...COMMON], /authors\/seed-0\n/);
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toMatch(/Run the same command again to continue/);
    const partial = read(again);
    expect(partial.runsDone).toBeGreaterThanOrEqual(1);
    expect(partial.complete).toBe(false);
    const dry = await lico(['study', '--study', file, '--out', again, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/base\/seed-0 +done/);
    const resumed = await lico(['study', '--study', file, '--out', again, ...COMMON]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/4 runs \([0-3] to do\)/);
    expect(metricsOf(read(again))).toEqual(metricsOf(w));
    // A checkout with only the committed study.json (no run directories) keeps its finished runs.
    rmSync(join(again, 'runs'), { recursive: true, force: true });
    const kept = await lico(['study', '--study', file, '--out', again, '--dry-run']);
    expect(kept.stdout.match(/ done\n/g)).toHaveLength(4);

    const md = readFileSync(join(merged, 'summary.md'), 'utf8');
    expect(md).toContain('## test accuracy (%), higher is better');
    expect(md).toContain(`| authors | 2 | ${(100 * w.arms.authors!.accuracy!.mean).toFixed(2)} |`);
    expect(md).toContain(`| ${(100 * d.mean).toFixed(2)} |`);
    const check = await checkReportInBrowser(join(merged, 'report.html'));
    expect(check.errors).toEqual([]);
    expect(check.externalRequests).toEqual([]);
    expect(check.scripts).toBe(0);
    // One forest plot per metric (6) plus two validation-curve plots, each with drawn paths.
    expect(check.plots.length).toBe(6 + 2);
    for (const p of check.plots) expect(p.pathLengths.length).toBeGreaterThan(0);
    expect(check.text).toContain('Paired differences to the baseline');
    expect(check.text).toContain('deletion AUC (rise) (lower is better)');
  });

  it('lico train --validation (--validate-every) records the curve and leaves the trained weights exactly as without it', async () => {
    const args = ['train', '--dataset', 'fashion-mnist', '--backbone', 'wrn-10-1', '--labels', '40', '--epochs', '2', '--batch-size', '8', '--eval-size', '40', ...COMMON];
    const [plain, validated] = await Promise.all([lico([...args, '--out', join(root, 'plain')]), lico([...args, '--validation', '30', '--validate-every', '2', '--out', join(root, 'validated')])]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(validated.code, validated.stderr).toBe(0);
    const weights = (dir: string) => readFileSync(join(root, dir, 'model', 'weights.bin'));
    expect(weights('validated').equals(weights('plain'))).toBe(true);
    const history = (JSON.parse(readFileSync(join(root, 'validated', 'results.json'), 'utf8')) as { history: { validationAccuracy?: number }[] }).history;
    expect(history).toHaveLength(2);
    expect(history[0]!.validationAccuracy).toBeUndefined(); // --validate-every 2: after epoch 2 only
    const v = history[1]!.validationAccuracy!;
    expect(v * 30).toBeCloseTo(Math.round(v * 30), 9); // k of 30 images
  });

  it('bad input: exit 2 with a message, nothing written', async () => {
    const out = join(root, 'bad');
    const unknown = await lico(['study', '--dataset', 'fashion-mnist', '--seeds', '0', '--arm', 'x:mm-sine=plus', '--out', out]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown arm 'x' option 'mm-sine'");
    expect(unknown.stderr).toContain("Did you mean 'mm-sign'?");
    writeFileSync(join(root, 'empty.json'), JSON.stringify({ ...STUDY, seeds: [] }));
    const empty = await lico(['study', '--study', join(root, 'empty.json'), '--out', out]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("study 'seeds' must be a non-empty list");
    const pairing = await lico(['study', '--dataset', 'fashion-mnist', '--seeds', '0', '--arm', 'x:labels=10', '--out', out]);
    expect(pairing.code).toBe(2);
    expect(pairing.stderr).toContain("may not set 'labels'");
    expect(existsSync(out)).toBe(false);

    // Merging: shards that do not cover the study, studies with other definitions.
    const notCovering = await lico(['study', 'merge', join(root, 'shard-1'), '--out', join(root, 'm1')]);
    expect(notCovering.code).toBe(2);
    expect(notCovering.stderr).toContain('do not cover the study: shard 2/2 missing');
    const other = join(root, 'other');
    cpSync(join(root, 'shard-2'), other, { recursive: true });
    const o = read(other);
    writeFileSync(join(other, 'study.json'), JSON.stringify({ ...o, fingerprint: 'f'.repeat(64) }));
    const mixed = await lico(['study', 'merge', join(root, 'shard-1'), other, '--out', join(root, 'm2')]);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain('holds another study');
    expect(existsSync(join(root, 'm1'))).toBe(false);
    expect(existsSync(join(root, 'm2'))).toBe(false);
    // Another study in a directory that holds one.
    writeFileSync(join(root, 'changed.json'), JSON.stringify({ ...STUDY, seeds: [0, 1, 2] }));
    const changed = await lico(['study', '--study', join(root, 'changed.json'), '--out', join(root, 'whole'), ...COMMON]);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toContain('holds another study');
  });
});
