import { describe, expect, it } from 'vitest';
import type { Rng } from '../../src/core/rng';
import { lossWeights } from '../../src/rl/policy-loss';
import {
  type PolicyLossHyper,
  type PolicyLossInputs,
  policyLossReference,
} from '../../src/rl/policy-loss-reference';
import { finiteDifference, randomF64, seeded } from '../helpers/numeric';

const hyper = (h: Partial<PolicyLossHyper> = {}): PolicyLossHyper => ({
  clipLow: 0.2,
  clipHigh: 0.28,
  klCoef: 0.05,
  entropyCoef: 0.01,
  ...h,
});

/** B sequences of T tokens, about 70% action tokens; log-ratios spread so both clip sides are active. */
function randomInputs(rng: Rng, B: number, T: number, aggregation: 'token-mean' | 'sequence-mean') {
  const R = B * T;
  const mask = Uint32Array.from({ length: R }, () => (rng.uniform() < 0.7 ? 1 : 0));
  mask[0] = 1;
  const logp = Float64Array.from({ length: R }, () => -0.1 - 3 * rng.uniform());
  const logpOld = Float64Array.from(logp, (x) => x + 0.4 * rng.normal());
  return {
    mask,
    inputs: {
      logp,
      entropy: Float64Array.from({ length: R }, () => 4 * rng.uniform()),
      logpOld,
      refLogp: Float64Array.from(logp, (x) => x + 0.3 * rng.normal()),
      advantages: randomF64(rng, R),
      weights: Float64Array.from(lossWeights(mask, B, T, aggregation)),
    },
  };
}

describe('policy loss (float64 reference)', () => {
  for (const aggregation of ['token-mean', 'sequence-mean'] as const) {
    it(`gradients match central finite differences away from the clip kinks, ${aggregation}`, () => {
      const rng = seeded(`policy-loss-fd-${aggregation}`);
      const { inputs } = randomInputs(rng, 4, 16, aggregation);
      const h = hyper();
      // Keep every ratio at least 1e-3 away from the bounds, where the derivative jumps.
      inputs.logpOld.forEach((old, t) => {
        const ratio = Math.exp(inputs.logp[t] - old);
        for (const bound of [1 - h.clipLow, 1 + h.clipHigh]) {
          if (Math.abs(ratio - bound) < 1e-3) inputs.logpOld[t] = old + 0.01;
        }
      });
      const { gLogp, gEntropy, stats } = policyLossReference(inputs, h);
      expect(stats.clipLowFraction).toBeGreaterThan(0);
      expect(stats.clipHighFraction).toBeGreaterThan(0);
      const loss = () => policyLossReference(inputs, h).stats.loss;
      for (const [i, numeric] of finiteDifference(loss, inputs.logp)) {
        expect(Math.abs(gLogp[i] - numeric)).toBeLessThan(1e-8);
      }
      for (const [i, numeric] of finiteDifference(loss, inputs.entropy)) {
        expect(Math.abs(gEntropy[i] - numeric)).toBeLessThan(1e-8);
      }
      expect(gLogp.some((g) => g !== 0)).toBe(true);
    });
  }

  it('A = 0 gives no policy gradient; at ratio 1 the gradient is −w·A, unclipped even on a zero-width clip', () => {
    const logp = Float64Array.from([-1, -2, -0.5, -3]);
    const base: PolicyLossInputs = {
      logp,
      entropy: new Float64Array(4),
      logpOld: Float64Array.from([-1.5, -1, -0.5, -3]),
      refLogp: null,
      advantages: Float64Array.from([0, 0, 1.5, -2]),
      weights: Float64Array.from([0.25, 0.25, 0.25, 0.25]),
    };
    const h = hyper({ klCoef: 0, entropyCoef: 0, clipLow: 0, clipHigh: 0 });
    const { gLogp, stats } = policyLossReference(base, h);
    // Ratios e^0.5, e^−1 with A = 0; ratio exactly 1 (a tie on both bounds) with A = 1.5 and −2.
    expect([...gLogp]).toEqual([-0, -0, -0.25 * 1.5, 0.25 * 2]);
    expect([stats.clipLowFraction, stats.clipHighFraction]).toEqual([0, 0]);
    expect(stats.policyLoss).toBeCloseTo(-0.25 * (1.5 - 2), 15);
    expect(stats.ratioMean).toBeCloseTo((Math.exp(0.5) + Math.exp(-1) + 2) / 4, 15);
  });

  it('clipped tokens: constant term, zero gradient, counted on their side', () => {
    const inputs: PolicyLossInputs = {
      logp: Float64Array.from([0, 0, 0, 0]),
      entropy: Float64Array.from([1, 2, 3, 4]),
      logpOld: Float64Array.from([-1, 1, -1, 1]), // ratios e, 1/e, e, 1/e
      refLogp: null,
      advantages: Float64Array.from([2, -3, -1, 1]),
      weights: Float64Array.from([1, 1, 1, 1]),
    };
    const { gLogp, gEntropy, stats } = policyLossReference(inputs, hyper({ klCoef: 0, entropyCoef: 0.5 }));
    // ρ = e > 1.28 with A > 0: clipped high; ρ = 1/e < 0.8 with A < 0: clipped low; the others are not clipped.
    expect([...gLogp]).toEqual([0, 0, Math.E, -Math.exp(-1)]);
    expect([...gEntropy]).toEqual([-0.5, -0.5, -0.5, -0.5]);
    expect([stats.clipHighFraction, stats.clipLowFraction]).toEqual([0.25, 0.25]);
    const policy = -1.28 * 2 + -0.8 * -3 + Math.E * 1 + -Math.exp(-1) * 1;
    expect(stats.policyLoss).toBeCloseTo(policy, 14);
    expect(stats.loss).toBeCloseTo(policy - 0.5 * 10, 14);
    expect(stats.entropyMean).toBe(2.5);
  });

  it('KL k3 and its derivative; β = 0 needs no reference values; β > 0 without them is an error', () => {
    const inputs: PolicyLossInputs = {
      logp: Float64Array.from([-1]),
      entropy: Float64Array.from([0]),
      logpOld: Float64Array.from([-1]),
      refLogp: Float64Array.from([-1.5]),
      advantages: Float64Array.from([0]),
      weights: Float64Array.from([1]),
    };
    const d = -0.5;
    const { gLogp, stats } = policyLossReference(inputs, hyper({ klCoef: 0.1 }));
    expect(stats.klMean).toBeCloseTo(Math.exp(d) - d - 1, 15);
    expect(stats.loss).toBeCloseTo(0.1 * (Math.exp(d) - d - 1), 15);
    expect(gLogp[0]).toBeCloseTo(0.1 * (1 - Math.exp(d)), 15);
    // Any finite reference, however far off, leaves a β = 0 gradient alone (only the KL statistic sees it).
    const far = policyLossReference({ ...inputs, refLogp: Float64Array.from([1e30]) }, hyper({ klCoef: 0 }));
    expect([far.gLogp[0], far.stats.nonFiniteTokens]).toEqual([-0, 0]);
    expect(policyLossReference({ ...inputs, refLogp: null }, hyper({ klCoef: 0 })).stats.klMean).toBe(0);
    expect(() => policyLossReference({ ...inputs, refLogp: null }, hyper({ klCoef: 0.1 }))).toThrow(
      /klCoef = 0.1 needs reference log-probs/,
    );
    expect(() => policyLossReference(inputs, hyper({ clipLow: 1 }))).toThrow(/clipLow must lie in \[0, 1\)/);
    expect(() => policyLossReference({ ...inputs, entropy: new Float64Array(2) }, hyper())).toThrow(
      /entropy has 2 values, expected 1/,
    );
  });

  it('a NaN log-prob is counted, gets NaN gradients and stays out of the other statistics', () => {
    const rng = seeded('policy-loss-nan');
    const { inputs } = randomInputs(rng, 2, 8, 'token-mean');
    const clean = policyLossReference(inputs, hyper());
    const logp = Float64Array.from(inputs.logp);
    logp[0] = Number.NaN; // token 0 is always an action token
    const { gLogp, gEntropy, stats } = policyLossReference({ ...inputs, logp }, hyper());
    expect(stats.nonFiniteTokens).toBe(1);
    expect(stats.tokens).toBe(clean.stats.tokens - 1);
    expect(Number.isNaN(gLogp[0]) && Number.isNaN(gEntropy[0])).toBe(true);
    expect(Number.isFinite(stats.loss)).toBe(true);
    expect([...gLogp.subarray(1)]).toEqual([...clean.gLogp.subarray(1)]);
    // An overflowing ratio is non-finite too.
    const old = Float64Array.from(inputs.logpOld);
    old[0] = -1e4;
    expect(policyLossReference({ ...inputs, logpOld: old }, hyper()).stats.nonFiniteTokens).toBe(1);
  });
});

describe('loss weights', () => {
  const mask = [1, 1, 1, 0, /**/ 0, 0, 0, 0, /**/ 1, 0, 0, 0];
  it("'token-mean': every action token of the batch weighs 1/N", () => {
    expect([...lossWeights(mask, 3, 4, 'token-mean')]).toEqual(mask.map((m) => Math.fround(m / 4)));
  });
  it("'sequence-mean': 1/(n_b · sequences with an action token); an empty sequence is left out", () => {
    const w = lossWeights(mask, 3, 4, 'sequence-mean');
    expect([...w]).toEqual([1 / 6, 1 / 6, 1 / 6, 0, 0, 0, 0, 0, 0.5, 0, 0, 0].map(Math.fround));
  });
  it('rejects a batch without action tokens and a mask of the wrong size', () => {
    expect(() => lossWeights([0, 0, 0, 0], 2, 2, 'token-mean')).toThrow(/no action tokens/);
    expect(() => lossWeights([1, 0, 0], 2, 2, 'token-mean')).toThrow(/lossMask has 3 values, expected 2·2/);
  });
});
