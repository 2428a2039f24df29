import { describe, expect, it } from 'vitest';
import { IGNORE_TARGET, logprobBackward, logprobForward } from '../../src/reference/logprob';
import { finiteDifference, randomF64, seeded } from '../helpers/numeric';

describe('reference logprob', () => {
  it('matches the textbook log-softmax and entropy', () => {
    const logits = Float64Array.from([1, 2, 3, -1, 0.5, 0.5]);
    const { logp, entropy } = logprobForward(logits, Uint32Array.from([2, 0]), 2, 3);
    for (let r = 0; r < 2; r++) {
      const row = [...logits.subarray(r * 3, r * 3 + 3)];
      const z = row.reduce((s, x) => s + Math.exp(x), 0);
      const p = row.map((x) => Math.exp(x) / z);
      expect(logp[r]).toBeCloseTo(Math.log(p[r === 0 ? 2 : 0]), 12);
      expect(entropy[r]).toBeCloseTo(-p.reduce((s, q) => s + q * Math.log(q), 0), 12);
    }
  });

  it('backward matches central finite differences, ignored rows included', () => {
    const rng = seeded('logprob-fd');
    const R = 4;
    const V = 7;
    const logits = randomF64(rng, R * V, 2);
    const targets = Uint32Array.from([3, IGNORE_TARGET, 0, 6]);
    const gLogp = randomF64(rng, R);
    const gEntropy = randomF64(rng, R);
    const loss = () => {
      const { logp, entropy } = logprobForward(logits, targets, R, V);
      return logp.reduce((s, v, r) => s + v * gLogp[r] + entropy[r] * gEntropy[r], 0);
    };
    const analytic = logprobBackward(logits, targets, gLogp, gEntropy, R, V);
    for (const [i, numeric] of finiteDifference(loss, logits)) {
      expect(Math.abs(analytic[i] - numeric)).toBeLessThan(1e-7 * Math.max(1, Math.abs(numeric)));
    }
    expect(analytic.subarray(V, 2 * V).every((g) => g === 0)).toBe(true);
    expect(analytic.subarray(0, V).some((g) => g !== 0)).toBe(true);
  });

  it('ignored rows give zeros; out-of-vocabulary targets are an error', () => {
    const logits = Float64Array.from([5, 1, 2, 3]);
    const { logp, entropy } = logprobForward(logits, Uint32Array.from([IGNORE_TARGET, 1]), 2, 2);
    expect([logp[0], entropy[0]]).toEqual([0, 0]);
    expect(logp[1]).toBeLessThan(0);
    expect(() => logprobForward(logits, Uint32Array.from([0, 2]), 2, 2)).toThrow(/target 2 of row 1/);
  });
});
