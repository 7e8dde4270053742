// Runs the recipes as the schedulers would (environment variables set per task), against the
// built CLI, on a tiny study; the merged result must equal the unsharded study.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', '..', 'packages', 'cli', 'dist', 'bin.js');
const LICO = `${process.execPath} ${BIN}`;
const root = mkdtempSync(join(tmpdir(), 'lico-study-cluster-'));
const study = join(root, 'tiny.json');
writeFileSync(
  study,
  JSON.stringify({
    name: 'tiny-cluster',
    dataset: 'fashion-mnist',
    seeds: [0, 1],
    common: { backbone: 'wrn-10-1', labels: 20, epochs: 1, 'batch-size': 10 },
    arms: [{ name: 'base', options: { mode: 'baseline' } }, { name: 'lico', options: { 'ot-gradient': 'none' } }],
    evaluation: { interpreters: ['gradCam'], saliencyImages: 2, stepSize: 392, evalSize: 20 },
  }),
);

function bash(script, env) {
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf-8', env: { ...process.env, LICO_WASM_THREADS: '1', ...env } });
  if (r.status !== 0) throw new Error(`bash exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
const runs = (dir) => JSON.parse(readFileSync(join(dir, 'study.json'), 'utf8')).runs.map((r) => ({ id: r.id, metrics: r.metrics }));

describe('study on a cluster: the recipes', () => {
  it('Slurm array tasks + merge = the unsharded study', () => {
    bash(`${LICO} study --study ${study} --out ${root}/whole --threads 1 --quiet`, {});
    const out = join(root, 'slurm');
    for (const task of ['1', '2', '3']) {
      bash(join(here, 'slurm-array.sh'), { SLURM_ARRAY_TASK_ID: task, SLURM_ARRAY_TASK_COUNT: '3', SLURM_CPUS_PER_TASK: '1', STUDY: study, OUT: out, LICO });
    }
    const printed = bash(join(here, 'slurm-merge.sh'), { OUT: out, LICO });
    expect(JSON.parse(printed)).toMatchObject({ runsDone: 4, runsTotal: 4, complete: true });
    expect(runs(join(out, 'merged'))).toEqual(runs(join(root, 'whole')));
    // Outside an array the script says how to submit it.
    const r = spawnSync('bash', [join(here, 'slurm-array.sh')], { encoding: 'utf-8', env: { PATH: process.env.PATH } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('run this as a Slurm array job');
  });

  it('Kubernetes Indexed Job: index k runs shard k+1 of SHARDS; the merge job combines them', () => {
    const [job] = [parse(readFileSync(join(here, 'k8s-indexed-job.yaml'), 'utf8'))];
    expect(job.kind).toBe('Job');
    expect(job.spec.completionMode).toBe('Indexed');
    const container = job.spec.template.spec.containers[0];
    const shards = container.env.find((e) => e.name === 'SHARDS').value;
    expect(String(job.spec.completions)).toBe(shards);
    expect(String(job.spec.parallelism)).toBe(shards);
    expect(container.volumeMounts.map((m) => m.mountPath).sort()).toEqual(['/config', '/shared']);
    // Run each pod's command here, with the paths of the pod mapped onto a temporary directory.
    const out = join(root, 'k8s');
    const command = container.args[0].replaceAll('/config/study.json', study).replaceAll('/shared', out);
    for (let k = 0; k < Number(shards); k++) bash(command, { JOB_COMPLETION_INDEX: String(k), SHARDS: shards, LICO });
    const merge = parse(readFileSync(join(here, 'k8s-merge-job.yaml'), 'utf8')).spec.template.spec.containers[0].args[0].replaceAll('/shared', out);
    expect(JSON.parse(bash(merge, { LICO }))).toMatchObject({ runsDone: 4, complete: true });
    expect(runs(join(out, 'merged'))).toEqual(runs(join(root, 'whole')));
  });
});
