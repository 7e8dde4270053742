/**
 * Per-command option tables: one table drives `util.parseArgs`, the validation of every value and
 * the `--help` text, so the three never disagree.
 */
import { parseArgs } from 'node:util';
import { ConfigError, UnknownNameError } from '@lico/core';

/** How an option's value is checked. */
export type OptionValueKind =
  /** One of `choices`, or `prefix + anything` for each of `prefixes`. */
  | { readonly kind: 'choice'; readonly choices: readonly string[]; readonly prefixes?: readonly string[] }
  /** A non-negative integer (with `min`), or one of the words in `words` (e.g. `'all'`). */
  | { readonly kind: 'integer'; readonly min?: number; readonly words?: readonly string[] }
  /** A finite number. */
  | { readonly kind: 'number'; readonly min?: number; readonly exclusiveMin?: boolean }
  /** Any non-empty text (paths, names). */
  | { readonly kind: 'text' }
  /** A comma-separated list of names, each one of `choices`. */
  | { readonly kind: 'list'; readonly choices: readonly string[] }
  /** A flag without a value. */
  | { readonly kind: 'flag' };

/** One option of a command. */
export interface OptionSpec {
  /** Long name without dashes, e.g. `'dataset'`. */
  readonly name: string;
  /** What to show as the value in `--help`, e.g. `'<name>'`. */
  readonly valueName?: string;
  /** One line for `--help`. */
  readonly description: string;
  readonly value: OptionValueKind;
  /** The default, as the text a person would type (shown in `--help`). */
  readonly default?: string;
  /** The option must be given. */
  readonly required?: boolean;
  /** The option may be given several times (the value is then a list). */
  readonly multiple?: boolean;
}

/** A command's table. */
export interface CommandSpec {
  readonly name: string;
  /** One line for the overview. */
  readonly summary: string;
  /** More text shown under the usage line. */
  readonly details?: string;
  readonly options: readonly OptionSpec[];
  /** Example invocations. */
  readonly examples?: readonly string[];
  /** Words without a flag the command takes (e.g. directories), collected in order under `_`; none when absent. */
  readonly positionals?: { readonly name: string; readonly min: number };
}

/** Parsed, validated values: strings, numbers, booleans, or lists of strings for `multiple`. */
export type ParsedOptions = Record<string, string | number | boolean | string[] | undefined>;

/** An error in how the command was called; the CLI prints it and exits with code 2. */
export class UsageError extends ConfigError {
  /** The command it concerns, for a pointer to its `--help`. */
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}

const HELP: OptionSpec = { name: 'help', description: 'Show this help and exit.', value: { kind: 'flag' } };

/** The option table of a command including the implicit `--help`. */
export function optionsOf(spec: CommandSpec): readonly OptionSpec[] {
  return spec.options.some((o) => o.name === 'help') ? spec.options : [...spec.options, HELP];
}

/** Describes the valid values of an option, for errors and `--help`. */
export function describeValues(value: OptionValueKind): string[] {
  switch (value.kind) {
    case 'choice':
      return [...value.choices, ...(value.prefixes ?? []).map((p) => `${p}PATH`)];
    case 'integer':
      return [`an integer${value.min !== undefined ? ` >= ${value.min}` : ''}`, ...(value.words ?? [])];
    case 'number':
      return [`a number${value.min !== undefined ? ` ${value.exclusiveMin ? '>' : '>='} ${value.min}` : ''}`];
    case 'text':
      return ['any text'];
    case 'list':
      return [...value.choices];
    case 'flag':
      return [];
  }
}

/** Checks one value against its option; returns the typed value or throws a {@link UsageError}/{@link UnknownNameError}. */
export function checkValue(option: OptionSpec, raw: string, command?: string): string | number | string[] {
  const v = option.value;
  switch (v.kind) {
    case 'choice': {
      if (v.choices.includes(raw)) return raw;
      for (const prefix of v.prefixes ?? []) {
        if (raw.startsWith(prefix) && raw.length > prefix.length) return raw;
        if (raw === prefix || raw === prefix.slice(0, -1)) {
          throw new UsageError(`--${option.name} ${raw}: give a path after '${prefix}', e.g. ${prefix}./my-images.`, command);
        }
      }
      throw new UnknownNameError(`--${option.name} value`, raw, describeValues(v));
    }
    case 'integer': {
      if (v.words?.includes(raw)) return raw;
      if (!/^-?\d+$/.test(raw)) {
        throw new UnknownNameError(`--${option.name} value`, raw, describeValues(v));
      }
      const n = Number(raw);
      if (!Number.isSafeInteger(n) || (v.min !== undefined && n < v.min)) {
        throw new UsageError(`--${option.name} ${raw}: must be ${describeValues(v).join(' or ')}.`, command);
      }
      return n;
    }
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) {
        throw new UsageError(`--${option.name} ${raw}: must be ${describeValues(v)[0]}.`, command);
      }
      if (v.min !== undefined && (v.exclusiveMin ? n <= v.min : n < v.min)) {
        throw new UsageError(`--${option.name} ${raw}: must be ${describeValues(v)[0]}.`, command);
      }
      return n;
    }
    case 'text':
      if (raw.length === 0) throw new UsageError(`--${option.name}: the value must not be empty.`, command);
      return raw;
    case 'list': {
      const items = raw.split(',').map((x) => x.trim()).filter(Boolean);
      if (items.length === 0) throw new UsageError(`--${option.name}: give at least one of ${v.choices.join(', ')}.`, command);
      for (const item of items) {
        if (!v.choices.includes(item)) throw new UnknownNameError(`--${option.name} value`, item, v.choices);
      }
      return [...new Set(items)];
    }
    case 'flag':
      throw new UsageError(`--${option.name} takes no value.`, command);
  }
}

/**
 * Parses `argv` (the words after the command name) against a command's table with
 * `util.parseArgs`, then validates every value. Unknown flags and values throw an
 * {@link UnknownNameError} that lists the valid ones; other mistakes throw a {@link UsageError}.
 * Defaults are applied; a required option that is missing is an error unless `--help` is given.
 */
export function parseCommandArgs(spec: CommandSpec, argv: readonly string[]): ParsedOptions {
  const table = optionsOf(spec);
  const config: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const o of table) config[o.name] = { type: o.value.kind === 'flag' ? 'boolean' : 'string', ...(o.multiple ? { multiple: true } : {}) };
  const parsed = parseArgs({ args: [...argv], options: config, strict: false, allowPositionals: true, tokens: true });
  const byName = new Map(table.map((o) => [o.name, o]));
  const validFlags = table.map((o) => `--${o.name}`);
  const seen = new Set<string>();
  const positionals: string[] = [];
  for (const token of parsed.tokens ?? []) {
    if (token.kind === 'positional') {
      if (spec.positionals) {
        positionals.push(token.value);
        continue;
      }
      throw new UsageError(`Unexpected argument '${token.value}' for 'lico ${spec.name}'. Options: ${validFlags.join(', ')}.`, spec.name);
    }
    if (token.kind !== 'option') continue;
    const option = token.rawName === '-h' ? byName.get('help') : byName.get(token.name);
    if (!option || (token.rawName.length === 2 && token.rawName !== '-h')) {
      throw new UnknownNameError('option', token.rawName, validFlags);
    }
    if (!option.multiple && option.value.kind !== 'flag') {
      if (seen.has(option.name)) throw new UsageError(`--${option.name} was given more than once.`, spec.name);
      seen.add(option.name);
    }
    if (option.value.kind === 'flag' && token.value !== undefined) {
      throw new UsageError(`--${option.name} takes no value (got '${token.value}').`, spec.name);
    }
    if (option.value.kind !== 'flag' && token.value === undefined) {
      throw new UsageError(`--${option.name} needs a value: ${describeValues(option.value).join(' | ')}.`, spec.name);
    }
  }
  const out: ParsedOptions = {};
  const values = parsed.values as Record<string, string | boolean | (string | boolean)[] | undefined>;
  if (values.h === true) values.help = true;
  for (const o of table) {
    const raw = values[o.name];
    if (o.value.kind === 'flag') {
      out[o.name] = raw === true || (Array.isArray(raw) && raw.length > 0);
      continue;
    }
    if (raw === undefined) {
      if (o.default !== undefined) out[o.name] = o.multiple ? [o.default] : checkValue(o, o.default, spec.name);
      continue;
    }
    if (o.multiple) {
      const list = (Array.isArray(raw) ? raw : [raw]).map(String);
      for (const item of list) checkValue(o, item, spec.name);
      out[o.name] = list;
    } else {
      if (Array.isArray(raw)) throw new UsageError(`--${o.name} was given more than once.`, spec.name);
      out[o.name] = checkValue(o, String(raw), spec.name);
    }
  }
  if (spec.positionals) {
    out._ = positionals;
    if (!out.help && positionals.length < spec.positionals.min) {
      throw new UsageError(`'lico ${spec.name}' needs at least ${spec.positionals.min} ${spec.positionals.name}. See 'lico ${spec.name} --help'.`, spec.name);
    }
  }
  if (!out.help) {
    const missing = table.filter((o) => o.required && out[o.name] === undefined);
    if (missing.length > 0) {
      throw new UsageError(
        `'lico ${spec.name}' needs ${missing.map((o) => `--${o.name} ${o.valueName ?? '<value>'}`).join(', ')}. See 'lico ${spec.name} --help'.`,
        spec.name,
      );
    }
  }
  return out;
}

function wrap(text: string, width: number, indent: string): string {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines.join(`\n${indent}`);
}

/** The `--help` text of a command, built from its table. */
export function formatCommandHelp(spec: CommandSpec): string {
  const table = optionsOf(spec);
  const usage = table
    .filter((o) => o.name !== 'help')
    .map((o) => {
      const part = o.value.kind === 'flag' ? `--${o.name}` : `--${o.name} ${o.valueName ?? '<value>'}`;
      return o.required ? part : `[${part}]`;
    })
    .concat(spec.positionals ? [`<${spec.positionals.name}...>`] : [])
    .join(' ');
  const lines = [`Usage: lico ${spec.name} ${usage}`, '', spec.summary];
  if (spec.details) lines.push('', spec.details);
  lines.push('', 'Options:');
  const heads = table.map((o) => (o.value.kind === 'flag' ? `  --${o.name}` : `  --${o.name} ${o.valueName ?? '<value>'}`));
  const pad = Math.min(34, Math.max(...heads.map((h) => h.length)) + 2);
  table.forEach((o, i) => {
    const head = heads[i]!;
    const extras: string[] = [];
    if (o.value.kind === 'choice') extras.push(`one of: ${describeValues(o.value).join(', ')}`);
    if (o.value.kind === 'list') extras.push(`comma-separated, from: ${o.value.choices.join(', ')}`);
    if (o.value.kind === 'integer' && o.value.words?.length) extras.push(`or ${o.value.words.join(', ')}`);
    if (o.required) extras.push('required');
    if (o.default !== undefined) extras.push(`default: ${o.default}`);
    if (o.multiple) extras.push('may be repeated');
    const text = `${o.description}${extras.length ? ` (${extras.join('; ')})` : ''}`;
    const indent = ' '.repeat(pad);
    const first = head.length >= pad ? `${head}\n${indent}` : head.padEnd(pad);
    lines.push(`${first}${wrap(text, 100 - pad, indent)}`);
  });
  if (spec.examples?.length) {
    lines.push('', 'Examples:');
    for (const e of spec.examples) lines.push(`  ${e}`);
  }
  return `${lines.join('\n')}\n`;
}
