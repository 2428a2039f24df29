import { describe, expect, it } from 'vitest';
import { adamwStep, clipScale, globalNorm } from '../../src/reference/adamw';
import { randomF64, seeded } from '../helpers/numeric';

const HYPER = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.5 };

describe('reference AdamW', () => {
  it('global norm and clip factor', () => {
    expect(globalNorm(Float64Array.from([3, -4]))).toBe(5);
    expect(clipScale(5, 0)).toBe(1);
    expect(clipScale(5, -1)).toBe(1);
    expect(clipScale(5, 10)).toBe(1);
    expect(clipScale(5, 1)).toBeCloseTo(1 / (5 + 1e-6), 15);
  });

  it('first step moves each parameter by lr·sign(g) plus decoupled decay on the prefix only', () => {
    const params = Float64Array.from([1, 2, 3, 4]);
    const grads = Float64Array.from([0.5, -2, 0.01, -7]);
    const m = new Float64Array(4);
    const v = new Float64Array(4);
    adamwStep(params, grads, m, v, 1, HYPER, 2);
    // Bias correction makes m̂ = g and v̂ = g² after one step, so the Adam part is lr·g/(|g|+eps).
    const expected = [1 - 0.05 * 1 - 0.1, 2 - 0.05 * 2 + 0.1, 3 - 0.1, 4 + 0.1];
    for (let i = 0; i < 4; i++) expect(params[i]).toBeCloseTo(expected[i], 6);
    grads.forEach((g, i) => {
      expect(m[i]).toBeCloseTo(0.1 * g, 15);
      expect(v[i]).toBeCloseTo(0.001 * g * g, 15);
    });
  });

  it('matches a step-by-step transcription of torch.optim.AdamW over several steps', () => {
    const rng = seeded('adamw-ref');
    const n = 16;
    const p = randomF64(rng, n);
    const m = new Float64Array(n);
    const v = new Float64Array(n);
    const q = Float64Array.from(p);
    const mq = new Float64Array(n);
    const vq = new Float64Array(n);
    for (let t = 1; t <= 4; t++) {
      const g = randomF64(rng, n);
      adamwStep(p, g, m, v, t, HYPER, n, 0.5);
      for (let i = 0; i < n; i++) {
        // torch: p.mul_(1 − lr·wd); m.lerp_(g, 1−β₁); v.mul_(β₂).addcmul_(g, g, 1−β₂);
        // p.addcdiv_(m, v.sqrt()/√bc2 + eps, −lr/bc1)
        const gi = 0.5 * g[i];
        q[i] *= 1 - HYPER.lr * HYPER.weightDecay;
        mq[i] += (gi - mq[i]) * (1 - HYPER.beta1);
        vq[i] = vq[i] * HYPER.beta2 + (1 - HYPER.beta2) * gi * gi;
        const denom = Math.sqrt(vq[i]) / Math.sqrt(1 - HYPER.beta2 ** t) + HYPER.eps;
        q[i] -= (HYPER.lr / (1 - HYPER.beta1 ** t)) * (mq[i] / denom);
      }
    }
    for (let i = 0; i < n; i++) expect(p[i]).toBeCloseTo(q[i], 12);
  });

  it('gradScale is the same as scaling the gradients first', () => {
    const rng = seeded('adamw-scale');
    const g = randomF64(rng, 8);
    const a = { p: randomF64(rng, 8), m: new Float64Array(8), v: new Float64Array(8) };
    const b = { p: Float64Array.from(a.p), m: new Float64Array(8), v: new Float64Array(8) };
    adamwStep(a.p, g, a.m, a.v, 1, HYPER, 4, 0.25);
    adamwStep(
      b.p,
      g.map((x) => x * 0.25),
      b.m,
      b.v,
      1,
      HYPER,
      4,
    );
    expect([...a.p]).toEqual([...b.p]);
  });

  it('rejects bad steps and mismatched lengths', () => {
    const z = new Float64Array(4);
    expect(() => adamwStep(z, z, z, z, 0, HYPER, 0)).toThrow(/step/);
    expect(() => adamwStep(z, new Float64Array(3), z, z, 1, HYPER, 0)).toThrow(/lengths/);
  });
});
