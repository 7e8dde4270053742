import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_SPECS } from './args/command-specs';
import { closest, runCli, type CliIo } from './run-cli';
import { fakeEvaluation, fakeExplanations, fakeTrainResults, HOSTILE_NAMES } from './testing/report-fixture';

function collect(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t) };
}

describe('runCli', () => {
  it('prints the overview for --help and for no command (exit 0 and 2)', async () => {
    const io = collect();
    expect(await runCli(['--help'], io)).toBe(0);
    for (const c of COMMAND_SPECS) expect(io.out.join('')).toContain(`  ${c.name} `);
    const none = collect();
    expect(await runCli([], none)).toBe(2);
    expect(none.out.join('')).toContain('Usage: lico <command>');
  });

  it('prints each command\'s help for --help and for help <command>', async () => {
    for (const c of COMMAND_SPECS) {
      const a = collect();
      expect(await runCli([c.name, '--help'], a)).toBe(0);
      expect(a.out.join('')).toContain(`Usage: lico ${c.name} `);
      const b = collect();
      expect(await runCli(['help', c.name], b)).toBe(0);
      expect(b.out.join('')).toBe(a.out.join(''));
    }
  });

  it('exits 2 on an unknown command, flag or value, listing the valid ones and the nearest', async () => {
    const a = collect();
    expect(await runCli(['trian'], a)).toBe(2);
    expect(a.err.join('')).toContain("Unknown command 'trian'. Valid commands: 'train', 'explain', 'evaluate', 'report', 'quickstart', 'study'.");
    expect(a.err.join('')).toContain("Did you mean 'train'?");
    const b = collect();
    expect(await runCli(['train', '--dataset', 'fashion-mnist', '--out', 'x', '--epoch', '2'], b)).toBe(2);
    expect(b.err.join('')).toContain("Unknown option '--epoch'. Valid options: '--dataset'");
    expect(b.err.join('')).toContain("Did you mean '--epochs'?");
    expect(b.err.join('')).toContain("Run 'lico train --help'");
    const c = collect();
    expect(await runCli(['train', '--dataset', 'fashion-mnist', '--out', 'x', '--backend', 'gpu'], c)).toBe(2);
    expect(c.err.join('')).toContain("Valid --backend values: 'auto', 'wasm', 'cpu', 'tensorflow'.");
    const d = collect();
    expect(await runCli(['report', '--out', 'x.html'], d)).toBe(2);
    expect(d.err.join('')).toContain('needs --run <dir>');
  });

  it('report: reads run directories and writes an escaped, self-contained page', async () => {
    const root = mkdtempSync(join(tmpdir(), 'lico-cli-report-'));
    const runs: string[] = [];
    for (const [i, mode] of (['baseline', 'lico'] as const).entries()) {
      const dir = join(root, `${mode}-<run>`);
      mkdirSync(join(dir, 'explanations'), { recursive: true });
      writeFileSync(join(dir, 'results.json'), JSON.stringify(fakeTrainResults(mode, 0.8 + i / 100, HOSTILE_NAMES)));
      writeFileSync(join(dir, 'evaluation.json'), JSON.stringify(fakeEvaluation(i / 20)));
      const expl = fakeExplanations(i, HOSTILE_NAMES);
      writeFileSync(join(dir, 'explanations', 'explanations.json'), JSON.stringify(expl.index));
      for (const [name, bytes] of expl.files) writeFileSync(join(dir, 'explanations', name), bytes);
      runs.push(dir);
    }
    const out = join(root, 'out', 'report.html');
    const io = collect();
    expect(await runCli(['report', '--run', runs[0]!, '--run', runs[1]!, '--out', out, '--title', 'T <1>'], io)).toBe(0);
    expect(io.out.join('')).toContain(`Report written to ${out}`);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('baseline-&lt;run&gt;');
    expect(html).toContain('<title>T &lt;1&gt;</title>');
    expect(html.match(/<img src="data:image\/png/g)).toHaveLength(15);
    for (const n of HOSTILE_NAMES) expect(html).not.toContain(n);
  });

  it('report: a missing or corrupt run directory is a clear error (exit 1)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'lico-cli-report-'));
    const a = collect();
    expect(await runCli(['report', '--run', join(root, 'nope'), '--out', join(root, 'r.html')], a)).toBe(1);
    expect(a.err.join('')).toMatch(/Run directory '.*nope' does not exist/);
    writeFileSync(join(root, 'results.json'), '{"schema": "other"}');
    const b = collect();
    expect(await runCli(['report', '--run', root, '--out', join(root, 'r.html')], b)).toBe(1);
    expect(b.err.join('')).toContain("expected schema 'lico.train-results/1', found 'other'");
  });
});

describe('closest', () => {
  it('finds the nearest valid name within distance 3', () => {
    expect(closest('--epoch', ['--epochs', '--seed'])).toBe('--epochs');
    expect(closest('wrn28-2', ['wrn-28-2', 'wrn-16-1'])).toBe('wrn-28-2');
    expect(closest('zzzzzzzz', ['train'])).toBeUndefined();
  });
});
