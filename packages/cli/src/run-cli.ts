/**
 * The `lico` command line: dispatches to the commands, prints help, and maps errors to exit
 * codes (0 success, 1 failure, 2 usage error, 130 interrupted after saving a checkpoint).
 */
import { ConfigError, LicoError, UnknownNameError } from '@lico/core';
import { COMMAND_SPECS, STUDY_MERGE_SPEC } from './args/command-specs';
import { formatCommandHelp, parseCommandArgs, UsageError, type CommandSpec, type ParsedOptions } from './args/options';

/** Where the CLI writes; tests pass collectors. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Whether stderr is a terminal (progress bars redraw in place). */
  readonly isTty?: boolean;
}

/** Exit codes of {@link runCli}. */
export const EXIT_CODES = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

/** Thrown by a command that stopped on Ctrl-C after saving a checkpoint. */
export class InterruptedError extends LicoError {
  constructor(message: string) {
    super('CONFIG', message);
  }
}

/** The signature of one command's implementation. */
export type CommandHandler = (options: ParsedOptions, context: { readonly io: CliIo; readonly argv: readonly string[]; readonly signal: AbortSignal }) => Promise<void>;

const defaultIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  isTty: Boolean(process.stderr.isTTY),
};

/** The overview printed by `lico --help`. */
export function formatOverview(): string {
  const pad = Math.max(...COMMAND_SPECS.map((c) => c.name.length)) + 4;
  return [
    'Usage: lico <command> [options]',
    '',
    'LICO (Language-Image COnsistency): train explainable image classifiers, explain them, measure the explanations.',
    '',
    'Commands:',
    ...COMMAND_SPECS.map((c) => `  ${c.name.padEnd(pad)}${c.summary}`),
    '',
    "Run 'lico <command> --help' for a command's options.",
    '',
  ].join('\n');
}

async function loadHandler(name: string): Promise<CommandHandler> {
  switch (name) {
    case 'train':
      return (await import('./commands/train-command')).trainCommand;
    case 'explain':
      return (await import('./commands/explain-command')).explainCommand;
    case 'evaluate':
      return (await import('./commands/evaluate-command')).evaluateCommand;
    case 'report':
      return (await import('./commands/report-handler')).reportCommand;
    case 'quickstart':
      return (await import('./commands/quickstart-command')).quickstartCommand;
    case 'study':
      return (await import('./commands/study-command')).studyCommand;
    case 'study merge':
      return (await import('./commands/study-command')).studyMergeCommand;
    default:
      throw new UnknownNameError('command', name, COMMAND_SPECS.map((c) => c.name));
  }
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** The valid name nearest to `requested` (edit distance at most 3), if any. */
export function closest(requested: string, valid: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const v of valid) {
    const d = editDistance(requested.toLowerCase(), v.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [v, d];
  }
  return best;
}

/**
 * Runs the CLI on `argv` (the words after `lico`) and resolves to the exit code. Never calls
 * `process.exit`; the `lico` binary does.
 *
 * ```ts
 * const code = await runCli(['train', '--help']); // prints the train options, 0
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo = defaultIo, signal: AbortSignal = new AbortController().signal): Promise<number> {
  let spec: CommandSpec | undefined;
  try {
    const [first, ...rest] = argv;
    if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
      const topic = first === 'help' ? rest[0] : undefined;
      if (topic !== undefined) {
        const s = COMMAND_SPECS.find((c) => c.name === topic);
        if (!s) throw new UnknownNameError('command', topic, COMMAND_SPECS.map((c) => c.name));
        io.stdout(formatCommandHelp(s));
      } else io.stdout(formatOverview());
      return first === undefined ? EXIT_CODES.usage : EXIT_CODES.ok;
    }
    if (first === '--version') {
      io.stdout(`${CLI_VERSION}\n`);
      return EXIT_CODES.ok;
    }
    spec = COMMAND_SPECS.find((c) => c.name === first);
    if (!spec) throw new UnknownNameError('command', first, COMMAND_SPECS.map((c) => c.name));
    let words = rest;
    if (spec.name === 'study' && rest[0] === 'merge') {
      spec = STUDY_MERGE_SPEC;
      words = rest.slice(1);
    }
    const options = parseCommandArgs(spec, words);
    if (options.help) {
      io.stdout(formatCommandHelp(spec));
      return EXIT_CODES.ok;
    }
    const handler = await loadHandler(spec.name);
    await handler(options, { io, argv, signal });
    return EXIT_CODES.ok;
  } catch (error) {
    if (error instanceof InterruptedError) {
      io.stderr(`\n${error.message}\n`);
      return EXIT_CODES.interrupted;
    }
    if (error instanceof UsageError || error instanceof UnknownNameError || error instanceof ConfigError) {
      const hint = spec ? `Run 'lico ${spec.name} --help' for the options.` : "Run 'lico --help' for the commands.";
      const guess = error instanceof UnknownNameError ? closest(error.requested, error.valid) : undefined;
      io.stderr(`lico: error: ${error.message}\n${guess ? `Did you mean '${guess}'? ` : ''}${hint}\n`);
      return EXIT_CODES.usage;
    }
    if (error instanceof LicoError) {
      io.stderr(`lico: error: ${error.message}\n`);
      return EXIT_CODES.failure;
    }
    io.stderr(`lico: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT_CODES.failure;
  }
}

/** The version of `@lico/cli` (replaced at build time is not needed: read from package.json). */
export const CLI_VERSION = '0.1.0';
