import { ConfigError } from '@lico/core';
import { describe, expect, it } from 'vitest';
import { normalizeStudy, planRuns, shardRuns } from './study-definition';
import { buildStudyResults, mergeStudyResults, summarize, type StudyRunRecord } from './study-results';

const DEF = normalizeStudy({
  name: 's',
  dataset: 'fashion-mnist',
  seeds: [0, 1, 2],
  arms: [{ name: 'base', options: { mode: 'baseline' } }, { name: 'lico' }],
  evaluation: { interpreters: ['gradCam'] },
});

function record(arm: string, seed: number, accuracy: number, insertion: number): StudyRunRecord {
  return { id: `${arm}/seed-${seed}`, arm, seed, status: 'done', metrics: { accuracy, 'insertion.gradCam': insertion, 'deletion.gradCam': 0.1 } };
}

const RUNS = [record('base', 0, 0.8, 0.5), record('lico', 0, 0.82, 0.52), record('base', 1, 0.7, 0.4), record('lico', 1, 0.71, 0.45), record('base', 2, 0.75, 0.3), record('lico', 2, 0.78, 0.3)];

describe('summarize', () => {
  it('per-arm means and paired differences by hand', () => {
    const s = summarize(DEF, RUNS);
    expect(s.metrics.map((m) => m.key)).toEqual(['accuracy', 'insertion.gradCam', 'deletion.gradCam']);
    expect(s.metrics.find((m) => m.key === 'deletion.gradCam')!.better).toBe('lower');
    expect(s.arms.base!.accuracy!.mean).toBeCloseTo(0.75, 12);
    const d = s.paired.lico!.accuracy!; // differences 0.02, 0.01, 0.03
    expect(d.mean).toBeCloseTo(0.02, 12);
    expect(d.sd).toBeCloseTo(0.01, 12);
    expect(d.ci95![1] - d.mean).toBeCloseTo((4.302652729749464 * 0.01) / Math.sqrt(3), 8);
    expect(d.seeds).toEqual([0, 1, 2]);
    expect(s.paired.base).toBeUndefined();
  });

  it('pairs only the seeds both arms have done', () => {
    const partial = RUNS.filter((r) => r.id !== 'lico/seed-2');
    const s = summarize(DEF, partial);
    expect(s.paired.lico!.accuracy!.seeds).toEqual([0, 1]);
    expect(s.arms.base!.accuracy!.n).toBe(3);
  });
});

describe('mergeStudyResults', () => {
  const shard = (index: number, def = DEF) =>
    buildStudyResults({
      definition: def,
      shards: [{ index, count: 2 }],
      runs: shardRuns(planRuns(def), { index, count: 2 }).map((r) => RUNS.find((x) => x.id === r.id)!),
      protocol: {},
      machines: [],
    });

  it('two shards merge to the unsharded summary', () => {
    const merged = mergeStudyResults([{ dir: 'a', results: shard(1) }, { dir: 'b', results: shard(2) }]);
    const whole = buildStudyResults({ definition: DEF, shards: [{ index: 1, count: 1 }], runs: planRuns(DEF).map((r) => RUNS.find((x) => x.id === r.id)!), protocol: {}, machines: [] });
    expect(merged.complete).toBe(true);
    expect(merged.runs).toEqual(whole.runs);
    expect(merged.paired).toEqual(whole.paired);
    expect(merged.arms).toEqual(whole.arms);
  });

  it('refuses other studies, missing and repeated shards', () => {
    const other = normalizeStudy({ ...DEF, seeds: [0, 1, 2], arms: [{ name: 'base', options: { mode: 'baseline' } }, { name: 'lico', options: { alpha: 1 } }] });
    expect(() => mergeStudyResults([{ dir: 'a', results: shard(1) }, { dir: 'b', results: shard(2, other) }])).toThrow(/holds another study/);
    expect(() => mergeStudyResults([{ dir: 'a', results: shard(1) }])).toThrow(/do not cover the study: shard 2\/2 missing/);
    expect(() => mergeStudyResults([{ dir: 'a', results: shard(1) }, { dir: 'b', results: shard(1) }])).toThrow(/given twice/);
    expect(() => mergeStudyResults([])).toThrow(ConfigError);
  });
});
