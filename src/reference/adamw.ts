// float64 reference for shaders/adamw.wgsl: global gradient norm, clip factor and one AdamW step.
// Same formula as torch.optim.AdamW (decoupled weight decay, bias-corrected moments).

export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** √Σg² over the whole flat gradient buffer. */
export function globalNorm(grads: Float64Array): number {
  let sumSq = 0;
  for (let i = 0; i < grads.length; i++) sumSq += grads[i] * grads[i];
  return Math.sqrt(sumSq);
}

/** The factor gradients are multiplied by so their norm is at most maxNorm; 1 when clipping is off (maxNorm ≤ 0). */
export function clipScale(norm: number, maxNorm: number): number {
  if (maxNorm <= 0) return 1;
  return Math.min(1, maxNorm / (norm + 1e-6));
}

/**
 * One AdamW step, in place on params, m and v (all (N) flat buffers). `step` is 1-based (the bias correction
 * uses it as the exponent). Weight decay applies to elements [0, decayEnd) only; gradients are multiplied by
 * `gradScale` (the clip factor) before anything else.
 */
export function adamwStep(
  params: Float64Array,
  grads: Float64Array,
  m: Float64Array,
  v: Float64Array,
  step: number,
  hyper: AdamWHyper,
  decayEnd: number,
  gradScale = 1,
): void {
  const n = params.length;
  if (grads.length !== n || m.length !== n || v.length !== n) {
    throw new Error(
      `adamwStep: lengths differ (params ${n}, grads ${grads.length}, m ${m.length}, v ${v.length})`,
    );
  }
  if (!Number.isInteger(step) || step < 1)
    throw new Error(`adamwStep: step must be an integer ≥ 1, got ${step}`);
  const { lr, beta1, beta2, eps, weightDecay } = hyper;
  const bias1 = 1 - beta1 ** step;
  const bias2 = 1 - beta2 ** step;
  for (let i = 0; i < n; i++) {
    const g = grads[i] * gradScale;
    m[i] = beta1 * m[i] + (1 - beta1) * g;
    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
    const mHat = m[i] / bias1;
    const vHat = v[i] / bias2;
    if (i < decayEnd) params[i] -= lr * weightDecay * params[i];
    params[i] -= (lr * mHat) / (Math.sqrt(vHat) + eps);
  }
}
