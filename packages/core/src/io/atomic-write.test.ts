import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { recoverAtomicDir, writeDirAtomic, writeFileAtomic, type DirWriteStep } from './atomic-write';

const here = dirname(fileURLToPath(import.meta.url));

/** A child process that writes version 1 of `dir`, then version 2 and is SIGKILLed after `step`. */
function killedWriter(dir: string, step: DirWriteStep): void {
  const script = `
    import { writeDirAtomic } from ${JSON.stringify(join(here, 'atomic-write.ts'))};
    import { writeFile } from 'node:fs/promises';
    const fill = (v) => async (tmp) => { await writeFile(tmp + '/a.txt', 'a' + v); await writeFile(tmp + '/b.txt', 'b' + v); };
    await writeDirAtomic(${JSON.stringify(dir)}, fill(1));
    await writeDirAtomic(${JSON.stringify(dir)}, fill(2), { afterStep: (s) => { if (s === ${JSON.stringify(step)}) process.kill(process.pid, 'SIGKILL'); } });
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf-8' });
  expect(r.signal, r.stderr).toBe('SIGKILL');
}

describe('writeDirAtomic: a complete copy at every instant', () => {
  for (const step of ['filled', 'ready', 'old-moved', 'new-moved'] as const) {
    it(`killed after '${step}': recovery gives a whole version and leaves nothing behind`, async () => {
      const parent = mkdtempSync(join(tmpdir(), 'lico-atomic-'));
      const dir = join(parent, 'checkpoint');
      killedWriter(dir, step);
      const leftovers = readdirSync(parent).filter((n) => n !== 'checkpoint');
      expect(leftovers.length).toBeGreaterThan(0); // the kill really left something
      if (step === 'old-moved') expect(existsSync(dir)).toBe(false); // the window the issue describes
      const r = await recoverAtomicDir(dir);
      const a = readFileSync(join(dir, 'a.txt'), 'utf8');
      const b = readFileSync(join(dir, 'b.txt'), 'utf8');
      expect(a.slice(1)).toBe(b.slice(1)); // never half of each
      // 'ready' and later: the new version was complete, so it is the one restored or kept.
      expect(a).toBe(step === 'filled' ? 'a1' : 'a2');
      if (step === 'old-moved') expect(r.restored).toBe('ready');
      expect(readdirSync(parent)).toEqual(['checkpoint']);
    });
  }

  it('a writer that is still alive is left alone; stale writeFileAtomic temporaries are removed', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'lico-atomic-'));
    const dir = join(parent, 'run');
    await writeDirAtomic(dir, async (t) => writeFileSync(join(t, 'x'), '1'));
    mkdirSync(join(parent, `.run.${process.pid}.abc.def.tmp`));
    writeFileSync(join(parent, `.results.json.999999999.abc.def.tmp`), 'half');
    expect(await recoverAtomicDir(dir)).toEqual({ restored: null, removed: 0 });
    expect(await recoverAtomicDir(join(parent, 'results.json'))).toEqual({ restored: null, removed: 1 });
    await writeFileAtomic(join(parent, 'results.json'), 'whole');
    expect(readdirSync(parent).sort()).toEqual([`.run.${process.pid}.abc.def.tmp`, 'results.json', 'run']);
  });
});
