import { describe, expect, it } from 'vitest';
import type { Rng } from '../../src/core/rng';
import type { LossAggregation } from '../../src/rl/advantage-config';
import {
  createPolicyLossScratch,
  LOSS_STATS_SIZE,
  lossWeights,
  parsePolicyLossStats,
  policyLoss,
  policyLossThreads,
} from '../../src/rl/policy-loss';
import {
  type PolicyLossHyper,
  type PolicyLossInputs,
  type PolicyLossStats,
  policyLossReference,
} from '../../src/rl/policy-loss-reference';
import { gpuContext } from '../helpers/gpu';
import { maxRelError, roundF32, seeded } from '../helpers/numeric';

const HYPER: PolicyLossHyper = { clipLow: 0.2, clipHigh: 0.28, klCoef: 0.04, entropyCoef: 0.01 };

/** (B, T) inputs rounded to float32; ~70% action tokens, log-ratios wide enough to clip on both sides. */
function randomInputs(rng: Rng, B: number, T: number, aggregation: LossAggregation): PolicyLossInputs {
  const R = B * T;
  const mask = Uint32Array.from({ length: R }, () => (rng.uniform() < 0.7 ? 1 : 0));
  mask[0] = 1;
  const logp = roundF32(Float64Array.from({ length: R }, () => -0.05 - 4 * rng.uniform()));
  return {
    logp,
    entropy: roundF32(Float64Array.from({ length: R }, () => 5 * rng.uniform())),
    logpOld: roundF32(Float64Array.from(logp, (x) => x + 0.4 * rng.normal())),
    refLogp: roundF32(Float64Array.from(logp, (x) => x + 0.3 * rng.normal())),
    advantages: roundF32(Float64Array.from({ length: R }, () => 1.5 * rng.normal())),
    weights: Float64Array.from(lossWeights(mask, B, T, aggregation)),
  };
}

async function runGpu(B: number, T: number, inputs: PolicyLossInputs, hyper: PolicyLossHyper) {
  const ctx = await gpuContext();
  const R = B * T;
  const upload = (name: string, a: ArrayLike<number>) => ctx.tensorFrom(name, [B, T], Float32Array.from(a));
  const out = {
    // Pre-filled with garbage: every element, masked ones included, must be written.
    gLogp: upload('gLogp', new Float32Array(R).fill(9)),
    gEntropy: upload('gEntropy', new Float32Array(R).fill(9)),
    stats: ctx.tensor('stats', [LOSS_STATS_SIZE]),
    partials: createPolicyLossScratch(ctx, R),
  };
  const enc = ctx.encoder('policy-loss-test');
  policyLoss(
    enc,
    out,
    {
      logp: upload('logp', inputs.logp),
      entropy: upload('entropy', inputs.entropy),
      logpOld: upload('logpOld', inputs.logpOld),
      refLogp: inputs.refLogp ? upload('refLogp', inputs.refLogp) : null,
      advantages: upload('advantages', inputs.advantages),
      weights: upload('weights', inputs.weights),
    },
    hyper,
  );
  enc.submit();
  const [gLogp, gEntropy, stats] = await ctx.readMany([out.gLogp, out.gEntropy, out.stats]);
  return {
    gLogp: Float64Array.from(gLogp),
    gEntropy: Float64Array.from(gEntropy),
    stats: parsePolicyLossStats(stats),
  };
}

function expectStatsClose(got: PolicyLossStats, want: PolicyLossStats): void {
  for (const key of Object.keys(want) as Array<keyof PolicyLossStats>) {
    const tolerance = 2e-5 * Math.max(1, Math.abs(want[key]));
    expect(Math.abs(got[key] - want[key]), key).toBeLessThan(tolerance);
  }
  expect([got.tokens, got.nonFiniteTokens]).toEqual([want.tokens, want.nonFiniteTokens]);
}

describe('policy loss kernel vs float64 reference', () => {
  // R = 1 and R not a multiple of the 64-thread workgroup or of the 64 tokens per thread; the largest shape
  // hits the 4096-thread cap of the first stage.
  const cases: Array<[number, number, LossAggregation, Partial<PolicyLossHyper>, boolean]> = [
    [1, 1, 'token-mean', {}, true],
    [3, 37, 'token-mean', {}, true],
    [3, 37, 'sequence-mean', {}, true],
    [16, 129, 'sequence-mean', { klCoef: 0, entropyCoef: 0 }, false],
    [8, 250, 'token-mean', { klCoef: 0 }, true], // KL statistic only
    [1200, 229, 'token-mean', { clipHigh: 0.2, entropyCoef: 0.003 }, true],
  ];
  for (const [B, T, aggregation, h, withRef] of cases) {
    const hyper = { ...HYPER, ...h };
    it(`B ${B}, T ${T}, ${aggregation}, ${JSON.stringify(h)}${withRef ? '' : ', no reference'}`, async () => {
      if (B * T > 64 * 4096) expect(policyLossThreads(B * T)).toBe(4096);
      const rng = seeded(`policy-loss-gpu-${B}-${T}-${aggregation}-${JSON.stringify(h)}`);
      const r = randomInputs(rng, B, T, aggregation);
      const inputs = withRef ? r : { ...r, refLogp: null };
      const want = policyLossReference(inputs, hyper);
      const got = await runGpu(B, T, inputs, hyper);
      expect(maxRelError(got.gLogp, want.gLogp)).toBeLessThan(1e-5);
      expect(maxRelError(got.gEntropy, want.gEntropy)).toBeLessThan(1e-5);
      expectStatsClose(got.stats, want.stats);
      if (B * T > 100) {
        expect(want.stats.clipLowFraction).toBeGreaterThan(0);
        expect(want.stats.clipHighFraction).toBeGreaterThan(0);
      }
      Array.from(inputs.weights).forEach((w, t) => {
        if (w === 0) expect([got.gLogp[t], got.gEntropy[t]]).toEqual([0, 0]);
      });
    });
  }

  it('reports a NaN log-prob in the stats and as NaN gradients, not hidden', async () => {
    const rng = seeded('policy-loss-gpu-nan');
    const inputs = randomInputs(rng, 4, 50, 'token-mean');
    const logp = Float64Array.from(inputs.logp);
    logp[0] = Number.NaN;
    const withNaN = { ...inputs, logp };
    const want = policyLossReference(withNaN, HYPER);
    const got = await runGpu(4, 50, withNaN, HYPER);
    expect(got.stats.nonFiniteTokens).toBe(1);
    expect(Number.isNaN(got.gLogp[0]) && Number.isNaN(got.gEntropy[0])).toBe(true);
    expect(maxRelError(got.gLogp.subarray(1), want.gLogp.subarray(1))).toBeLessThan(1e-5);
    expectStatsClose(got.stats, want.stats);
  });

  it('is bitwise deterministic across runs', async () => {
    const inputs = randomInputs(seeded('policy-loss-determinism'), 40, 100, 'sequence-mean');
    const a = await runGpu(40, 100, inputs, HYPER);
    const b = await runGpu(40, 100, inputs, HYPER);
    expect(Buffer.from(b.gLogp.buffer).equals(Buffer.from(a.gLogp.buffer))).toBe(true);
    expect(b.stats).toEqual(a.stats);
  });

  it('rejects bad shapes and hyperparameters with the kernel name', async () => {
    const ctx = await gpuContext();
    const enc = ctx.encoder('bad');
    const t = (name: string, shape = [2, 5]) => ctx.tensor(name, shape);
    const inputs = {
      logp: t('logp'),
      entropy: t('entropy'),
      logpOld: t('logpOld'),
      refLogp: t('refLogp'),
      advantages: t('advantages'),
      weights: t('weights'),
    };
    const out = {
      gLogp: t('gLogp'),
      gEntropy: t('gEntropy'),
      stats: t('stats', [9]),
      partials: createPolicyLossScratch(ctx, 10),
    };
    expect(() => policyLoss(enc, out, { ...inputs, advantages: t('advantages', [10]) }, HYPER)).toThrow(
      /policy_loss: advantages has shape \[10\], expected \[2, 5\]/,
    );
    expect(() =>
      policyLoss(enc, { ...out, gLogp: ctx.tensor('gLogp', [2, 5], 'u32') }, inputs, HYPER),
    ).toThrow(/policy_loss: gLogp has dtype u32, expected f32/);
    expect(() => policyLoss(enc, { ...out, stats: t('stats', [4]) }, inputs, HYPER)).toThrow(
      /policy_loss: stats has shape \[4\], expected \[9\]/,
    );
    expect(() =>
      policyLoss(enc, { ...out, partials: createPolicyLossScratch(ctx, 1000) }, inputs, HYPER),
    ).toThrow(/policy_loss: policyLoss.partials has shape \[16, 9\], expected \[1, 9\]/);
    expect(() => policyLoss(enc, out, { ...inputs, refLogp: null }, HYPER)).toThrow(
      /policy_loss: klCoef = 0.04 needs reference log-probs/,
    );
    expect(() => policyLoss(enc, out, inputs, { ...HYPER, clipLow: -0.1 })).toThrow(
      /clipLow must lie in \[0, 1\)/,
    );
  });
});
