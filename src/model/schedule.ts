// Learning-rate schedule, evaluated on the CPU once per optimizer step and passed to AdamW as a uniform.

export interface LearningRateSchedule {
  readonly learningRate: number;
  /** Steps 1..warmupSteps ramp linearly from learningRate/warmupSteps up to learningRate. */
  readonly warmupSteps: number;
  readonly schedule: 'constant' | 'cosine';
  /** Cosine decay reaches its floor at this step and stays there. */
  readonly totalSteps: number;
  /** The cosine floor, as a fraction of learningRate. */
  readonly minLearningRateRatio: number;
}

/** The learning rate of optimizer step `step` (1-based, the same count AdamW's bias correction uses). */
export function learningRateAt(step: number, s: LearningRateSchedule): number {
  if (!Number.isInteger(step) || step < 1)
    throw new RangeError(`learningRateAt: step must be an integer ≥ 1, got ${step}`);
  const warmup = Math.max(0, Math.floor(s.warmupSteps));
  if (step <= warmup) return (s.learningRate * step) / warmup;
  if (s.schedule === 'constant') return s.learningRate;
  const floor = s.learningRate * s.minLearningRateRatio;
  const span = Math.max(1, s.totalSteps - warmup);
  const progress = Math.min(1, (step - warmup) / span);
  return floor + 0.5 * (1 + Math.cos(Math.PI * progress)) * (s.learningRate - floor);
}
