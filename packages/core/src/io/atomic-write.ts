import { fs, path } from '#node-builtins';

/**
 * Writes `data` to `file` atomically: into a temporary file beside it, flushed, then renamed over
 * the target. A reader sees the old file or the new one, never a half-written one.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}.${Math.random().toString(36).slice(2)}.tmp`);
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await fs.rm(tmp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await fs.rename(tmp, file);
  } catch (error) {
    await fs.rm(tmp, { force: true });
    throw error;
  }
}

/** The points between the steps of {@link writeDirAtomic}, for tests that inject a kill there. */
export type DirWriteStep = 'filled' | 'ready' | 'old-moved' | 'new-moved';

/** Options of {@link writeDirAtomic}. */
export interface WriteDirAtomicOptions {
  /** Called after each step (tests: throw here to simulate a kill at that instant). */
  readonly afterStep?: (step: DirWriteStep) => void | Promise<void>;
}

const STAMP_RE = /^\.(.+)\.(\d+)\.([a-z0-9]+)\.([a-z0-9]+)\.(tmp|ready|old)$/;

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Brings `dir` back after a writer of {@link writeDirAtomic} was killed, and removes what such
 * writers left behind. A complete new copy (`.ready`) beside it takes its place (it is the newer
 * state); if `dir` is missing and there is none, the previous one (`.old`) does. Leftovers
 * of writers whose process is gone are removed: incomplete `.tmp` directories, and `.ready`/`.old`
 * copies once `dir` exists. Returns what it did, for messages.
 */
export async function recoverAtomicDir(dir: string): Promise<{ restored: 'ready' | 'old' | null; removed: number }> {
  const parent = path.dirname(dir);
  const base = path.basename(dir);
  let names: string[];
  try {
    names = await fs.readdir(parent);
  } catch {
    return { restored: null, removed: 0 };
  }
  const mine = names
    .map((name) => ({ name, m: STAMP_RE.exec(name) }))
    .filter((x) => x.m && x.m[1] === base && !pidAlive(Number(x.m[2])))
    .map((x) => ({ name: x.name, kind: x.m![5] as 'tmp' | 'ready' | 'old', time: parseInt(x.m![3]!, 36) }))
    .sort((a, b) => b.time - a.time);
  let restored: 'ready' | 'old' | null = null;
  let exists = true;
  try {
    await fs.stat(dir);
  } catch {
    exists = false;
  }
  const ready = mine.find((x) => x.kind === 'ready');
  if (!exists) {
    const pick = ready ?? mine.find((x) => x.kind === 'old');
    if (pick) {
      await fs.rename(path.join(parent, pick.name), dir);
      restored = pick.kind as 'ready' | 'old';
    }
  } else if (ready) {
    // The writer finished the new copy but was killed before moving it in: it is the newer state.
    const aside = path.join(parent, `.${base}.${process.pid}.${Date.now().toString(36)}.recovered.old`);
    await fs.rename(dir, aside);
    await fs.rename(path.join(parent, ready.name), dir);
    await fs.rm(aside, { recursive: true, force: true });
    restored = 'ready';
  }
  let removed = 0;
  for (const x of mine) {
    const full = path.join(parent, x.name);
    try {
      await fs.stat(full);
    } catch {
      continue; // the one restored
    }
    await fs.rm(full, { recursive: true, force: true });
    removed += 1;
  }
  return { restored, removed };
}

/**
 * Replaces a whole directory so that a complete copy exists at every instant: `fill(tmpDir)`
 * writes the new contents into a temporary directory beside `dir`, which is then marked complete
 * (renamed to `.ready`); the old `dir` moves aside (`.old`), the new one into place, and the old one
 * is removed. A kill between any two steps leaves `dir`, or a complete `.ready` or `.old` copy
 * beside it, which {@link recoverAtomicDir} (called here first, and by readers) puts back. If
 * `fill` throws, `dir` is left as it was.
 */
export async function writeDirAtomic(dir: string, fill: (tmpDir: string) => Promise<void>, options: WriteDirAtomicOptions = {}): Promise<void> {
  const parent = path.dirname(dir);
  await fs.mkdir(parent, { recursive: true });
  await recoverAtomicDir(dir);
  const stamp = `${process.pid}.${Date.now().toString(36)}.${Math.random().toString(36).slice(2)}`;
  const tmp = path.join(parent, `.${path.basename(dir)}.${stamp}.tmp`);
  const ready = path.join(parent, `.${path.basename(dir)}.${stamp}.ready`);
  const old = path.join(parent, `.${path.basename(dir)}.${stamp}.old`);
  const step = options.afterStep ?? (() => undefined);
  await fs.mkdir(tmp, { recursive: true });
  try {
    await fill(tmp);
  } catch (error) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw error;
  }
  await step('filled');
  await fs.rename(tmp, ready);
  await step('ready');
  let hadOld = false;
  try {
    await fs.rename(dir, old);
    hadOld = true;
  } catch {
    // no previous directory
  }
  await step('old-moved');
  await fs.rename(ready, dir);
  await step('new-moved');
  if (hadOld) await fs.rm(old, { recursive: true, force: true });
}
