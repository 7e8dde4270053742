import { describe, expect, it } from 'vitest';
import { constantSchedule, cosineSchedule, licoCosineSchedule } from './schedules';

describe('schedules', () => {
  it('licoCosine: lr0 * cos(7 pi k / 16 K)', () => {
    const s = licoCosineSchedule({ learningRate: 0.03 });
    expect(s(0, 100)).toBe(0.03);
    expect(s(50, 100)).toBeCloseTo(0.03 * Math.cos((7 * Math.PI * 50) / 1600), 12);
    expect(s(100, 100)).toBeCloseTo(0.03 * Math.cos((7 * Math.PI) / 16), 12);
    expect(s.config).toMatchObject({ name: 'lico-cosine', learningRate: 0.03, warmupSteps: 0 });
  });

  it('plain cosine from lr0 to min', () => {
    const s = cosineSchedule({ learningRate: 0.1, minLearningRate: 0.01 });
    expect(s(0, 10)).toBeCloseTo(0.1, 12);
    expect(s(5, 10)).toBeCloseTo(0.055, 12);
    expect(s(10, 10)).toBeCloseTo(0.01, 12);
  });

  it('linear warm-up, then the schedule over the remaining steps', () => {
    const s = licoCosineSchedule({ learningRate: 0.1, warmupSteps: 4 });
    [0.025, 0.05, 0.075, 0.1].forEach((lr, k) => expect(s(k, 14)).toBeCloseTo(lr, 15));
    expect(s(4, 14)).toBe(0.1);
    expect(s(14, 14)).toBeCloseTo(0.1 * Math.cos((7 * Math.PI) / 16), 12);
    const c = constantSchedule({ learningRate: 0.2, warmupSteps: 2 });
    expect([c(0, 9), c(1, 9), c(5, 9)]).toEqual([0.1, 0.2, 0.2]);
    expect(() => licoCosineSchedule({ learningRate: Number.NaN })).toThrow(/learningRate/);
    expect(() => cosineSchedule({ warmupSteps: 1.5 })).toThrow(/warmupSteps/);
  });
});
