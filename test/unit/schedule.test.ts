import { describe, expect, it } from 'vitest';
import { learningRateAt } from '../../src/model/schedule';

const base = { learningRate: 1e-3, warmupSteps: 10, totalSteps: 110, minLearningRateRatio: 0.1 } as const;

describe('learning-rate schedule', () => {
  it('warms up linearly to the peak at warmupSteps', () => {
    const s = { ...base, schedule: 'constant' } as const;
    expect(learningRateAt(1, s)).toBeCloseTo(1e-4, 12);
    expect(learningRateAt(5, s)).toBeCloseTo(5e-4, 12);
    expect(learningRateAt(10, s)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(11, s)).toBe(1e-3);
    expect(learningRateAt(10_000, s)).toBe(1e-3);
  });

  it('cosine decays from the peak to minRatio·lr at totalSteps and stays there', () => {
    const s = { ...base, schedule: 'cosine' } as const;
    expect(learningRateAt(10, s)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(60, s)).toBeCloseTo(0.55e-3, 12); // halfway: the mean of peak and floor
    expect(learningRateAt(110, s)).toBeCloseTo(1e-4, 12);
    expect(learningRateAt(500, s)).toBeCloseTo(1e-4, 12);
    let previous = Number.POSITIVE_INFINITY;
    for (let step = 10; step <= 120; step++) {
      const lr = learningRateAt(step, s);
      expect(lr).toBeLessThanOrEqual(previous);
      previous = lr;
    }
  });

  it('no warmup starts at the peak', () => {
    expect(learningRateAt(1, { ...base, warmupSteps: 0, schedule: 'constant' })).toBe(1e-3);
    expect(learningRateAt(1, { ...base, warmupSteps: 0, schedule: 'cosine' })).toBeCloseTo(1e-3, 6);
  });

  it('rejects steps that are not positive integers', () => {
    const s = { ...base, schedule: 'constant' } as const;
    expect(() => learningRateAt(0, s)).toThrow(RangeError);
    expect(() => learningRateAt(1.5, s)).toThrow(RangeError);
  });
});
