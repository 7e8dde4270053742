/**
 * A study: named arms (each a set of `lico train` options) × seeds on one dataset, with one
 * evaluation protocol. Read from a JSON or YAML file (or built from flags), validated against the
 * same option table as `lico train`, normalised (every default filled in) and fingerprinted, so two
 * shards or two sessions can tell whether they run the same study.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError, FileFormatError, NotFoundError, UnknownNameError } from '@lico/core';
import { DATASET_NAMES, INTERPRETER_NAMES, TRAIN_RUN_OPTIONS } from '../args/command-specs';
import { checkValue, describeValues, type OptionSpec } from '../args/options';

/** Options an arm may not change: the arms of one seed share the labelled subset, batch order and initialisation. */
export const PAIRING_OPTIONS = ['backbone', 'labels', 'validation', 'validate-every', 'epochs', 'batch-size'] as const;

/** The evaluation protocol of every run of a study. */
export interface StudyEvaluation {
  /** Interpreters measured (insertion/deletion; pointing game and energy in the mask where the data has masks). */
  readonly interpreters: readonly string[];
  /** Test images for the saliency metrics (the first ones of the test split). */
  readonly saliencyImages: number;
  /** Pixels per insertion/deletion step. */
  readonly stepSize: number;
  /** RISE masks per image. */
  readonly riseMasks: number;
  /** Test images for accuracy (`'all'` or a count). */
  readonly evalSize: number | 'all';
}

/** A normalised study definition: every option of every arm explicit. */
export interface StudyDefinition {
  readonly schema: 'lico.study/1';
  readonly name: string;
  readonly description: string;
  readonly dataset: string;
  readonly seeds: readonly number[];
  /** The arm the paired differences are taken against. */
  readonly baseline: string;
  /** Each arm's full option set, by CLI option name (`'mm-sign'`, …), in the file's order. */
  readonly arms: readonly { readonly name: string; readonly options: Readonly<Record<string, string | number>> }[];
  readonly evaluation: StudyEvaluation;
}

/** One run of a study. */
export interface PlannedRun {
  /** `<arm>/seed-<seed>`: also the run's directory under `runs/`. */
  readonly id: string;
  readonly arm: string;
  readonly seed: number;
  /** Position in the study's run order (seed-major). */
  readonly index: number;
}

const EVALUATION_DEFAULTS: StudyEvaluation = {
  interpreters: ['gradCam', 'gradCamPlusPlus', 'rise'],
  saliencyImages: 500,
  stepSize: 28,
  riseMasks: 500,
  evalSize: 'all',
};

const RUN_OPTIONS = new Map<string, OptionSpec>(TRAIN_RUN_OPTIONS.map((o) => [o.name, o]));
const TOP_KEYS = ['schema', 'name', 'description', 'dataset', 'seeds', 'baseline', 'common', 'arms', 'evaluation'];
const EVALUATION_KEYS = Object.keys(EVALUATION_DEFAULTS);
const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/i;

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function ownKeys(x: Record<string, unknown>): string[] {
  return Object.keys(x).filter((k) => Object.prototype.hasOwnProperty.call(x, k));
}

function checkKeys(x: Record<string, unknown>, valid: readonly string[], where: string): void {
  for (const k of ownKeys(x)) if (!valid.includes(k)) throw new UnknownNameError(`${where} key`, k, valid);
}

/** Validates one run option (`name: value`) with `lico train`'s table; returns the normalised value. */
function checkRunOption(name: string, value: unknown, where: string): string | number {
  const spec = RUN_OPTIONS.get(name);
  if (!spec) throw new UnknownNameError(`${where} option`, name, [...RUN_OPTIONS.keys()]);
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new ConfigError(`${where}: option '${name}' must be a string or a number (${describeValues(spec.value).join(' | ')}), got ${JSON.stringify(value)}.`);
  }
  const checked = checkValue(spec, String(value));
  if (Array.isArray(checked)) return checked.join(',');
  return checked;
}

function defaultsOfRunOptions(): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const o of TRAIN_RUN_OPTIONS) if (o.default !== undefined) out[o.name] = checkRunOption(o.name, o.default, 'default');
  return out;
}

function positiveInteger(x: unknown, what: string): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 1) throw new ConfigError(`${what} must be an integer >= 1, got ${JSON.stringify(x)}.`);
  return x;
}

function checkEvaluation(raw: unknown): StudyEvaluation {
  if (raw === undefined) return EVALUATION_DEFAULTS;
  if (!isRecord(raw)) throw new ConfigError(`study 'evaluation' must be an object with ${EVALUATION_KEYS.join(', ')}.`);
  checkKeys(raw, EVALUATION_KEYS, 'evaluation');
  const interpreters = raw.interpreters ?? EVALUATION_DEFAULTS.interpreters;
  if (!Array.isArray(interpreters) || interpreters.length === 0) throw new ConfigError("study 'evaluation.interpreters' must be a non-empty list.");
  for (const name of interpreters) {
    if (typeof name !== 'string' || !(INTERPRETER_NAMES as readonly string[]).includes(name)) throw new UnknownNameError('interpreter', String(name), INTERPRETER_NAMES);
  }
  if (new Set(interpreters).size !== interpreters.length) throw new ConfigError("study 'evaluation.interpreters' lists an interpreter twice.");
  const evalSize = raw.evalSize ?? EVALUATION_DEFAULTS.evalSize;
  return {
    interpreters: interpreters as string[],
    saliencyImages: positiveInteger(raw.saliencyImages ?? EVALUATION_DEFAULTS.saliencyImages, 'evaluation.saliencyImages'),
    stepSize: positiveInteger(raw.stepSize ?? EVALUATION_DEFAULTS.stepSize, 'evaluation.stepSize'),
    riseMasks: positiveInteger(raw.riseMasks ?? EVALUATION_DEFAULTS.riseMasks, 'evaluation.riseMasks'),
    evalSize: evalSize === 'all' ? 'all' : positiveInteger(evalSize, 'evaluation.evalSize'),
  };
}

/**
 * Validates and normalises a study object (as read from JSON/YAML). Unknown keys, arms, options or
 * values throw an `UnknownNameError` listing the valid ones; other mistakes a `ConfigError`.
 */
export function normalizeStudy(raw: unknown): StudyDefinition {
  if (!isRecord(raw)) throw new ConfigError('A study must be an object with name, dataset, seeds, arms (and optionally common, baseline, evaluation).');
  checkKeys(raw, TOP_KEYS, 'study');
  if (raw.schema !== undefined && raw.schema !== 'lico.study/1') throw new ConfigError(`study schema must be 'lico.study/1', got ${JSON.stringify(raw.schema)}.`);
  const name = raw.name ?? 'study';
  if (typeof name !== 'string' || !NAME_RE.test(name)) throw new ConfigError(`study name must be 1-64 letters, digits, '.', '_' or '-', got ${JSON.stringify(name)}.`);
  const description = raw.description ?? '';
  if (typeof description !== 'string') throw new ConfigError('study description must be text.');
  const dataset = raw.dataset;
  if (typeof dataset !== 'string' || dataset === '') throw new ConfigError(`study 'dataset' is required: one of ${DATASET_NAMES.join(', ')}, or folder:PATH.`);
  if (!(DATASET_NAMES as readonly string[]).includes(dataset) && !dataset.startsWith('folder:')) throw new UnknownNameError('dataset', dataset, [...DATASET_NAMES, 'folder:PATH']);
  const seeds = raw.seeds;
  if (!Array.isArray(seeds) || seeds.length === 0) throw new ConfigError("study 'seeds' must be a non-empty list of integers >= 0, e.g. [0, 1, 2, 3, 4].");
  for (const s of seeds) if (typeof s !== 'number' || !Number.isSafeInteger(s) || s < 0) throw new ConfigError(`study seed ${JSON.stringify(s)} is not an integer >= 0.`);
  if (new Set(seeds).size !== seeds.length) throw new ConfigError(`study 'seeds' lists a seed twice: ${JSON.stringify(seeds)}.`);
  const common = raw.common ?? {};
  if (!isRecord(common)) throw new ConfigError("study 'common' must be an object of lico train options.");
  const base = defaultsOfRunOptions();
  for (const k of ownKeys(common)) base[k] = checkRunOption(k, common[k], 'common');
  const armsRaw = raw.arms;
  if (!Array.isArray(armsRaw) || armsRaw.length === 0) throw new ConfigError("study 'arms' must be a non-empty list of { name, options }.");
  const arms: { name: string; options: Record<string, string | number> }[] = [];
  for (const [i, a] of armsRaw.entries()) {
    if (!isRecord(a)) throw new ConfigError(`study arm ${i} must be an object { name, options }.`);
    checkKeys(a, ['name', 'options', 'description'], `arm ${i}`);
    if (typeof a.name !== 'string' || !NAME_RE.test(a.name)) throw new ConfigError(`arm ${i}: name must be 1-64 letters, digits, '.', '_' or '-', got ${JSON.stringify(a.name)}.`);
    if (arms.some((x) => x.name === a.name)) throw new ConfigError(`arm name '${a.name}' is used twice.`);
    const opts = a.options ?? {};
    if (!isRecord(opts)) throw new ConfigError(`arm '${a.name}': options must be an object of lico train options.`);
    const options = { ...base };
    for (const k of ownKeys(opts)) {
      if ((PAIRING_OPTIONS as readonly string[]).includes(k)) {
        throw new ConfigError(`arm '${a.name}' may not set '${k}': the arms of one seed must share ${PAIRING_OPTIONS.join(', ')} (so their differences are paired). Set it under 'common'.`);
      }
      options[k] = checkRunOption(k, opts[k], `arm '${a.name}'`);
    }
    arms.push({ name: a.name, options });
  }
  const baseline = raw.baseline ?? arms[0]!.name;
  if (typeof baseline !== 'string' || !arms.some((a) => a.name === baseline)) throw new UnknownNameError('baseline arm', String(baseline), arms.map((a) => a.name));
  return { schema: 'lico.study/1', name, description, dataset, seeds: [...(seeds as number[])], baseline, arms, evaluation: checkEvaluation(raw.evaluation) };
}

/** Reads a study file (`.json`, `.yaml` or `.yml`) and normalises it. */
export function readStudyFile(file: string): StudyDefinition {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new NotFoundError(`Cannot read the study file '${file}': ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new FileFormatError(file, `not a valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'} study file: ${(error as Error).message}`);
  }
  return normalizeStudy(raw);
}

/** A stable JSON text (object keys sorted) for fingerprints and comparisons. */
export function canonicalJson(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonicalJson).join(',')}]`;
  if (isRecord(x)) return `{${Object.keys(x).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(x[k])}`).join(',')}}`;
  return JSON.stringify(x);
}

/** The SHA-256 of a definition's canonical JSON (the description is left out: it does not change a run). */
export function studyFingerprint(study: StudyDefinition): string {
  const { description: _description, ...defining } = study;
  return createHash('sha256').update(canonicalJson(defining)).digest('hex');
}

/** Every run of the study, seed-major (all arms of the first seed, then the next seed, …). */
export function planRuns(study: StudyDefinition): PlannedRun[] {
  const runs: PlannedRun[] = [];
  for (const seed of study.seeds) for (const arm of study.arms) runs.push({ id: `${arm.name}/seed-${seed}`, arm: arm.name, seed, index: runs.length });
  return runs;
}

/** A shard `i/n` (1-based). */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** Parses `--shard i/n`. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new ConfigError(`--shard ${text}: give i/n with 1 <= i <= n, e.g. --shard 1/2.`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (!(count >= 1 && index >= 1 && index <= count)) throw new ConfigError(`--shard ${text}: give i/n with 1 <= i <= n, e.g. --shard 1/2.`);
  return { index, count };
}

/** The fixed, disjoint share of shard `i/n`: runs whose position `p` has `p mod n = i − 1`. */
export function shardRuns(runs: readonly PlannedRun[], shard: Shard): PlannedRun[] {
  return runs.filter((r) => r.index % shard.count === shard.index - 1);
}
