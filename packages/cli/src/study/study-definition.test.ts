import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, FileFormatError, UnknownNameError } from '@lico/core';
import { describe, expect, it } from 'vitest';
import { normalizeStudy, parseShard, planRuns, readStudyFile, shardRuns, studyFingerprint } from './study-definition';

const STUDY = {
  name: 'fm',
  dataset: 'fashion-mnist',
  seeds: [0, 1, 2],
  common: { backbone: 'wrn-16-1', labels: 1000, epochs: 30 },
  arms: [
    { name: 'baseline', options: { mode: 'baseline' } },
    { name: 'lico', options: {} },
    { name: 'authors', options: { 'mm-sign': 'plus', 'ot-gradient': 'none', 'prompt-variants': 'shift-one', 'weight-decay': 5e-4 } },
  ],
};

describe('normalizeStudy', () => {
  it('fills every lico train default (the spec) and applies common, then the arm', () => {
    const s = normalizeStudy(STUDY);
    expect(s.baseline).toBe('baseline');
    expect(s.evaluation).toEqual({ interpreters: ['gradCam', 'gradCamPlusPlus', 'rise'], saliencyImages: 500, stepSize: 28, riseMasks: 500, evalSize: 'all' });
    const lico = s.arms[1]!.options;
    expect(lico).toMatchObject({ backbone: 'wrn-16-1', labels: 1000, epochs: 30, mode: 'lico', alpha: 10, beta: 1, 'mm-sign': 'minus', temperature: 'divisor', 'ot-gradient': 'detached-plan', 'prompt-variants': 'roll', context: 12, 'weight-decay': 0.0001, ema: 0, augment: 'auto' });
    expect(s.arms[2]!.options).toMatchObject({ 'mm-sign': 'plus', 'ot-gradient': 'none', 'prompt-variants': 'shift-one', 'weight-decay': 0.0005, labels: 1000 });
    expect(s.arms[0]!.options.mode).toBe('baseline');
  });

  it('the fingerprint ignores key order and the description, not a changed option', () => {
    const a = normalizeStudy(STUDY);
    const reordered = normalizeStudy({ arms: STUDY.arms, seeds: STUDY.seeds, common: { epochs: 30, labels: 1000, backbone: 'wrn-16-1' }, dataset: 'fashion-mnist', name: 'fm', description: 'words' });
    expect(studyFingerprint(reordered)).toBe(studyFingerprint(a));
    const other = normalizeStudy({ ...STUDY, common: { ...STUDY.common, epochs: 31 } });
    expect(studyFingerprint(other)).not.toBe(studyFingerprint(a));
  });

  it('bad input: unknown options and keys list the valid ones; empty seeds, pairing options in an arm, duplicates', () => {
    let unknown: unknown;
    try {
      normalizeStudy({ ...STUDY, arms: [{ name: 'x', options: { 'mm-sine': 'plus' } }] });
    } catch (e) {
      unknown = e;
    }
    if (!(unknown instanceof UnknownNameError)) throw new Error('expected an UnknownNameError');
    expect(unknown).toBeInstanceOf(UnknownNameError);
    expect(unknown.message).toContain("'mm-sine'");
    expect(unknown.valid).toContain('mm-sign');
    expect(() => normalizeStudy({ ...STUDY, arms: [{ name: 'x', options: { 'mm-sign': 'sideways' } }] })).toThrow(UnknownNameError);
    expect(() => normalizeStudy({ ...STUDY, arms: [{ name: 'x', options: { alpha: -1 } }] })).toThrow(/--alpha -1: must be a number >= 0/);
    expect(() => normalizeStudy({ ...STUDY, seeds: [] })).toThrow(/non-empty list/);
    expect(() => normalizeStudy({ ...STUDY, seeds: [0, 0] })).toThrow(/a seed twice/);
    expect(() => normalizeStudy({ ...STUDY, seeds: [-1] })).toThrow(/not an integer >= 0/);
    expect(() => normalizeStudy({ ...STUDY, arms: [{ name: 'x', options: { labels: 40 } }] })).toThrow(/may not set 'labels'/);
    expect(() => normalizeStudy({ ...STUDY, arms: [{ name: 'x' }, { name: 'x' }] })).toThrow(/used twice/);
    expect(() => normalizeStudy({ ...STUDY, baseline: 'nope' })).toThrow(UnknownNameError);
    expect(() => normalizeStudy({ ...STUDY, colour: 'red' })).toThrow(UnknownNameError);
    expect(() => normalizeStudy({ ...STUDY, dataset: 'imagenet' })).toThrow(UnknownNameError);
    expect(() => normalizeStudy({ ...STUDY, evaluation: { interpreters: ['gradCam', 'magic'] } })).toThrow(UnknownNameError);
    expect(normalizeStudy({ ...STUDY, evaluation: { interpreters: ['integratedGradients', 'smoothGrad', 'occlusion', 'gradient', 'hiResCam', 'gradCamElementWise', 'eigenGradCam', 'ablationCam'] } }).evaluation.interpreters).toEqual([
      'integratedGradients',
      'smoothGrad',
      'occlusion',
      'gradient',
      'hiResCam',
      'gradCamElementWise',
      'eigenGradCam',
      'ablationCam',
    ]);
    expect(() => normalizeStudy({ ...STUDY, arms: [] })).toThrow(ConfigError);
    expect(() => normalizeStudy({ ...STUDY, arms: [{ name: '../x' }] })).toThrow(/name must be/);
  });

  it('reads JSON and YAML files to the same definition; a broken file names itself', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lico-study-def-'));
    writeFileSync(join(dir, 's.json'), JSON.stringify(STUDY));
    writeFileSync(
      join(dir, 's.yaml'),
      [
        'name: fm',
        'dataset: fashion-mnist',
        'seeds: [0, 1, 2]',
        'common: { backbone: wrn-16-1, labels: 1000, epochs: 30 }',
        'arms:',
        '  - { name: baseline, options: { mode: baseline } }',
        '  - name: lico',
        '  - name: authors',
        '    options: { mm-sign: plus, ot-gradient: none, prompt-variants: shift-one, weight-decay: 5.0e-4 }',
      ].join('\n'),
    );
    expect(studyFingerprint(readStudyFile(join(dir, 's.yaml')))).toBe(studyFingerprint(readStudyFile(join(dir, 's.json'))));
    writeFileSync(join(dir, 'bad.json'), '{"name": ');
    expect(() => readStudyFile(join(dir, 'bad.json'))).toThrow(FileFormatError);
    expect(() => readStudyFile(join(dir, 'none.json'))).toThrow(/Cannot read the study file/);
  });
});

describe('planRuns / shards', () => {
  it('seed-major order; shards are disjoint and together cover every run', () => {
    const runs = planRuns(normalizeStudy(STUDY));
    expect(runs.map((r) => r.id).slice(0, 4)).toEqual(['baseline/seed-0', 'lico/seed-0', 'authors/seed-0', 'baseline/seed-1']);
    for (const n of [1, 2, 4]) {
      const parts = Array.from({ length: n }, (_, i) => shardRuns(runs, { index: i + 1, count: n }).map((r) => r.id));
      const all = parts.flat();
      expect(new Set(all).size).toBe(all.length);
      expect(all.sort()).toEqual(runs.map((r) => r.id).sort());
    }
    expect(shardRuns(runs, parseShard('2/2')).map((r) => r.index)).toEqual([1, 3, 5, 7]);
    for (const bad of ['0/2', '3/2', '1', 'a/b', '1/0']) expect(() => parseShard(bad)).toThrow(/give i\/n/);
  });
});
