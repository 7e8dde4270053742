/**
 * The `lico study` and `lico study merge` handlers.
 */
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '@lico/core';
import type { ParsedOptions } from '../args/options';
import { UsageError } from '../args/options';
import type { CommandHandler } from '../run-cli';
import { normalizeStudy, parseShard, readStudyFile, type StudyDefinition } from '../study/study-definition';
import { describePlan, studyRun } from '../study/study-run';
import { mergeStudyResults, readStudyResults } from '../study/study-results';
import { writeStudyReport } from '../study/study-report';
import { optionalString, resolveThreads, shellQuote } from './common';
import { checkOutputPath } from '../pipeline/output-path';

const FLAG_DEFINITION = ['name', 'dataset', 'seeds', 'arm', 'common', 'baseline', 'interpreters', 'saliency-images'] as const;

/** `k=v,k=v` → an object (values stay text; the study's validation types them). */
function keyValues(text: string, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',').map((x) => x.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UsageError(`${where}: '${part}' is not key=value.`, 'study');
    const key = part.slice(0, eq).trim();
    if (Object.prototype.hasOwnProperty.call(out, key)) throw new UsageError(`${where}: '${key}' is given twice.`, 'study');
    out[key] = part.slice(eq + 1).trim();
  }
  return out;
}

/** The study a `lico study` call describes: from `--study FILE`, or from its flags. */
export function studyFromOptions(o: ParsedOptions): StudyDefinition {
  const file = optionalString(o.study);
  const flags = FLAG_DEFINITION.filter((k) => o[k] !== undefined && !(Array.isArray(o[k]) && (o[k] as string[]).length === 0));
  if (file !== undefined) {
    if (flags.length > 0) throw new UsageError(`--study ${file} defines the whole study; drop ${flags.map((f) => `--${f}`).join(', ')} (or put them in the file).`, 'study');
    return readStudyFile(file);
  }
  if (o.dataset === undefined || o.seeds === undefined || o.arm === undefined) {
    throw new UsageError("'lico study' needs --study FILE, or --dataset, --seeds and at least one --arm.", 'study');
  }
  const seeds = String(o.seeds)
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map((x) => {
      if (!/^\d+$/.test(x)) throw new UsageError(`--seeds: '${x}' is not an integer >= 0.`, 'study');
      return Number(x);
    });
  const arms = (o.arm as string[]).map((spec) => {
    const colon = spec.indexOf(':');
    const name = colon < 0 ? spec : spec.slice(0, colon);
    return { name, options: colon < 0 ? {} : keyValues(spec.slice(colon + 1), `--arm ${name}`) };
  });
  return normalizeStudy({
    ...(o.name !== undefined ? { name: String(o.name) } : {}),
    dataset: String(o.dataset),
    seeds,
    arms,
    ...(o.common !== undefined ? { common: keyValues(String(o.common), '--common') } : {}),
    ...(o.baseline !== undefined ? { baseline: String(o.baseline) } : {}),
    evaluation: {
      ...(o.interpreters !== undefined ? { interpreters: o.interpreters } : {}),
      ...(o['saliency-images'] !== undefined ? { saliencyImages: o['saliency-images'] } : {}),
    },
  });
}

/** `lico study`. */
export const studyCommand: CommandHandler = async (o, { io, argv, signal }) => {
  const definition = studyFromOptions(o);
  const shard = typeof o.shard === 'string' ? parseShard(o.shard) : { index: 1, count: 1 };
  const out = String(o.out);
  if (o['dry-run'] === true) {
    const plan = describePlan(definition, out, shard);
    io.stdout(`study '${definition.name}' on ${definition.dataset}: ${definition.arms.length} arms x ${definition.seeds.length} seeds; shard ${shard.index}/${shard.count} has ${plan.length} runs:\n`);
    for (const p of plan) io.stdout(`  ${p.run.id.padEnd(40)} ${p.state}\n`);
    return;
  }
  const threads = resolveThreads(o.threads);
  const dataDir = optionalString(o['data-dir']);
  const results = await studyRun(
    {
      definition,
      out,
      shard,
      backend: String(o.backend),
      ...(threads !== undefined ? { threads } : {}),
      ...(dataDir !== undefined ? { dataDir } : {}),
      quiet: o.quiet === true,
      command: ['lico', ...argv].map(shellQuote).join(' '),
    },
    io,
    signal,
  );
  io.stdout(`${JSON.stringify({ out: resolve(out), runsDone: results.runsDone, runsTotal: results.runsTotal, complete: results.complete })}\n`);
};

/** `lico study merge`. */
export const studyMergeCommand: CommandHandler = async (o, { io }) => {
  const dirs = o._ as string[];
  const merged = mergeStudyResults(dirs.map((dir) => ({ dir, results: readStudyResults(dir) })));
  checkOutputPath(String(o.out), 'dir', '--out');
  const out = resolve(String(o.out));
  await writeFileAtomic(join(out, 'study.json'), `${JSON.stringify(merged, null, 2)}\n`);
  await writeStudyReport(merged, join(out, 'report.html'));
  io.stdout(`${JSON.stringify({ out, runsDone: merged.runsDone, runsTotal: merged.runsTotal, complete: merged.complete })}\n`);
};
