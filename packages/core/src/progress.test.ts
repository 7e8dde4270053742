import { describe, expect, it } from 'vitest';
import { createProgressBar, formatDuration } from './progress';

function fakeStream(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, columns: 200, write: (c: string) => chunks.push(c) } };
}

describe('createProgressBar', () => {
  it('computes rate and ETA from the clock', () => {
    let t = 0;
    const { stream, chunks } = fakeStream(false);
    const bar = createProgressBar({ total: 100, label: 'epoch 1/2', unit: 'img', stream, now: () => t });
    t = 2000;
    bar.tick(50, 'loss 0.5');
    // 50 img in 2 s = 25 img/s; 50 left -> 2 s ETA
    expect(chunks.at(-1)).toBe('epoch 1/2  50% |████████████░░░░░░░░░░░░| 50/100 [0:02<0:02, 25.0 img/s] loss 0.5\n');
  });

  it('units done before the bar started (a resume) count in the position but not in the rate', () => {
    let t = 0;
    const { stream, chunks } = fakeStream(false);
    const bar = createProgressBar({ total: 100, initial: 60, unit: 'epoch', stream, now: () => t, intervalMs: 0 });
    t = 10_000;
    bar.tick(20);
    // 20 epochs in 10 s = 2/s (not 80 in 10 s); 20 left -> 10 s
    expect(chunks.at(-1)).toContain('80/100 [0:10<0:10, 2.00 epoch/s]');
  });

  it('non-TTY: prints one line per percent step, not per tick', () => {
    let t = 0;
    const { stream, chunks } = fakeStream(false);
    const bar = createProgressBar({ total: 1000, stream, now: () => t, percentStep: 25, intervalMs: 1e9 });
    for (let i = 0; i < 1000; i++) {
      t += 1;
      bar.tick();
    }
    bar.done();
    // buckets 0 (first tick), 25, 50, 75, 100 + the final line
    expect(chunks.length).toBe(6);
    expect(chunks.every((c) => c.endsWith('\n') && !c.includes('\r'))).toBe(true);
    expect(chunks.at(-1)).toContain('1000/1000 [0:01 total');
  });

  it('non-TTY: also prints after the interval even without progress in percent', () => {
    let t = 0;
    const { stream, chunks } = fakeStream(false);
    const bar = createProgressBar({ total: 1e6, stream, now: () => t, percentStep: 50, intervalMs: 5000 });
    bar.tick();
    t = 1000;
    bar.tick();
    expect(chunks.length).toBe(1);
    t = 6001;
    bar.tick();
    expect(chunks.length).toBe(2);
  });

  it('TTY: redraws with \\r, throttled, and done() ends the line once', () => {
    let t = 0;
    const { stream, chunks } = fakeStream(true);
    const bar = createProgressBar({ total: 10, stream, now: () => t, intervalMs: 100 });
    bar.tick();
    bar.tick(); // within 100 ms: not drawn
    t = 200;
    bar.tick();
    expect(chunks.length).toBe(2);
    expect(chunks.every((c) => c.startsWith('\r'))).toBe(true);
    bar.done();
    bar.done();
    expect(chunks.length).toBe(3);
    expect(chunks.at(-1)!.endsWith('\n')).toBe(true);
    expect(bar.current).toBe(3);
  });

  it('rejects a bad total and formats durations', () => {
    expect(() => createProgressBar({ total: Number.NaN })).toThrow(/total/);
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(65)).toBe('1:05');
    expect(formatDuration(Number.NaN)).toBe('--:--');
  });
});
