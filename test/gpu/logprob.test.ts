import { describe, expect, it } from 'vitest';
import type { Rng } from '../../src/core/rng';
import { IGNORE_TARGET, logprobBackward, logprobForward } from '../../src/model/logprob';
import { CPU_ROW_TUNING, GPU_ROW_TUNING, type RowTuning } from '../../src/model/row-tuning';
import * as ref from '../../src/reference/logprob';
import { gpuContext } from '../helpers/gpu';
import { maxRelError, randomF64, roundF32, seeded } from '../helpers/numeric';

/** Targets for (B, T) rows where sequence b has `lengths[b]` real tokens and the rest is padding. */
function paddedTargets(rng: Rng, lengths: number[], T: number, V: number): Uint32Array {
  const targets = new Uint32Array(lengths.length * T);
  lengths.forEach((len, b) => {
    for (let t = 0; t < T; t++) targets[b * T + t] = t < len ? rng.int(V) : IGNORE_TARGET;
  });
  return targets;
}

async function runCase(rowShape: number[], V: number, scale: number, tuning: RowTuning, lengths?: number[]) {
  const ctx = await gpuContext();
  const R = rowShape.reduce((a, b) => a * b, 1);
  const rng = seeded(`logprob-${rowShape.join('x')}-${V}-${scale}`);
  const logits = roundF32(randomF64(rng, R * V, scale));
  const targets = lengths
    ? paddedTargets(rng, lengths, rowShape[1], V)
    : Uint32Array.from({ length: R }, () => rng.int(V));
  const gLogp = roundF32(randomF64(rng, R));
  const gEntropy = roundF32(randomF64(rng, R));
  const t = {
    logits: ctx.tensorFrom('logits', [...rowShape, V], Float32Array.from(logits)),
    targets: ctx.tensorFrom('targets', rowShape, targets),
    gLogp: ctx.tensorFrom('gLogp', rowShape, Float32Array.from(gLogp)),
    gEntropy: ctx.tensorFrom('gEntropy', rowShape, Float32Array.from(gEntropy)),
    // Pre-filled with garbage: every output, ignored rows included, must be written.
    logp: ctx.tensorFrom('logp', rowShape, new Float32Array(R).fill(9)),
    entropy: ctx.tensorFrom('entropy', rowShape, new Float32Array(R).fill(9)),
    dlogits: ctx.tensorFrom('dlogits', [...rowShape, V], new Float32Array(R * V).fill(9)),
  };
  const enc = ctx.encoder('logprob-test');
  logprobForward(enc, t.logp, t.entropy, t.logits, t.targets, tuning);
  logprobBackward(enc, t.dlogits, t.logits, t.targets, t.gLogp, t.gEntropy, tuning);
  enc.submit();
  const [logp, entropy, dlogits] = (await ctx.readMany([t.logp, t.entropy, t.dlogits])).map((a) =>
    Float64Array.from(a),
  );
  return {
    got: { logp, entropy, dlogits },
    fwd: ref.logprobForward(logits, targets, R, V),
    dlogits: ref.logprobBackward(logits, targets, gLogp, gEntropy, R, V),
    targets,
  };
}

describe('logprob kernels vs float64 reference', () => {
  // V not a multiple of 4 or of the threads per row (1003, 3), tiny V, the bench vocabulary, a large one;
  // scale 8 gives peaked distributions (small entropies, one dominant probability). Row counts are not
  // multiples of the 8 rows per workgroup; both row tunings (1 and 32 threads per row) and one between.
  const cases: Array<[number[], number, number, RowTuning]> = [
    [[37], 1003, 1, CPU_ROW_TUNING],
    [[37], 1003, 1, GPU_ROW_TUNING],
    [[5], 2, 1, CPU_ROW_TUNING],
    [[5], 2, 1, GPU_ROW_TUNING],
    [[9], 3, 3, { threadsPerRow: 4 }],
    [[4, 16], 256, 8, CPU_ROW_TUNING],
    [[4, 16], 256, 8, GPU_ROW_TUNING],
    [[3], 3000, 2, CPU_ROW_TUNING],
    [[3], 3000, 2, GPU_ROW_TUNING],
  ];
  for (const [rows, V, scale, tuning] of cases) {
    const label = `rows ${rows.join('×')}, V ${V}, logit scale ${scale}, ${tuning.threadsPerRow} threads per row`;
    it(`forward and backward, ${label}`, async () => {
      const { got, fwd, dlogits } = await runCase(rows, V, scale, tuning);
      expect(maxRelError(got.logp, fwd.logp)).toBeLessThan(1e-4);
      expect(maxRelError(got.entropy, fwd.entropy)).toBeLessThan(1e-4);
      expect(maxRelError(got.dlogits, dlogits)).toBeLessThan(1e-4);
    });
  }

  for (const tuning of [CPU_ROW_TUNING, GPU_ROW_TUNING]) {
    // V = 131 takes the scalar kernels, V = 132 the vec4 ones.
    for (const V of [131, 132]) {
      it(`a batch with mixed sequence lengths: padded rows are zero everywhere, V ${V}, ${tuning.threadsPerRow} threads per row`, async () => {
        const lengths = [7, 0, 19, 3];
        const T = 19;
        const { got, fwd, dlogits, targets } = await runCase([lengths.length, T], V, 2, tuning, lengths);
        expect(maxRelError(got.logp, fwd.logp)).toBeLessThan(1e-4);
        expect(maxRelError(got.entropy, fwd.entropy)).toBeLessThan(1e-4);
        expect(maxRelError(got.dlogits, dlogits)).toBeLessThan(1e-4);
        let ignored = 0;
        targets.forEach((target, r) => {
          if (target !== IGNORE_TARGET) return;
          ignored++;
          expect([got.logp[r], got.entropy[r]]).toEqual([0, 0]);
          expect(got.dlogits.subarray(r * V, (r + 1) * V).every((g) => g === 0)).toBe(true);
        });
        expect(ignored).toBe(lengths.reduce((s, len) => s + T - len, 0));
      });
    }

    it(`is bitwise deterministic across runs, ${tuning.threadsPerRow} threads per row`, async () => {
      const a = await runCase([21], 517, 2, tuning);
      const b = await runCase([21], 517, 2, tuning);
      const a4 = await runCase([21], 516, 2, tuning);
      const b4 = await runCase([21], 516, 2, tuning);
      for (const key of ['logp', 'entropy', 'dlogits'] as const) {
        expect(Buffer.from(b.got[key].buffer).equals(Buffer.from(a.got[key].buffer))).toBe(true);
        expect(Buffer.from(b4.got[key].buffer).equals(Buffer.from(a4.got[key].buffer))).toBe(true);
      }
    });
  }

  it('rejects bad shapes with the kernel name', async () => {
    const ctx = await gpuContext();
    const enc = ctx.encoder('bad');
    const logits = ctx.tensor('logits', [6, 10]);
    const r6 = () => ctx.tensor('r6', [6]);
    const targets = ctx.tensor('targets', [6], 'u32');
    expect(() => logprobForward(enc, r6(), r6(), logits, ctx.tensor('targets', [5], 'u32'))).toThrow(
      /logprob_forward: targets has shape \[5\], expected \[6\]/,
    );
    expect(() => logprobForward(enc, r6(), r6(), logits, ctx.tensor('targets', [6], 'f32'))).toThrow(
      /logprob_forward: targets has dtype f32, expected u32/,
    );
    expect(() => logprobForward(enc, ctx.tensor('logp', [3, 2]), r6(), logits, targets)).toThrow(
      /logprob_forward: logp has shape \[3, 2\], expected \[6\]/,
    );
    expect(() =>
      logprobForward(enc, ctx.tensor('l', [0]), ctx.tensor('e', [0]), ctx.tensor('x', [0, 10]), targets),
    ).toThrow(/logprob_forward: R must be a positive integer, got 0/);
    expect(() => logprobForward(enc, r6(), r6(), ctx.tensor('x', [6, 1]), targets)).toThrow(
      /logprob_forward: V = 1/,
    );
    expect(() => logprobBackward(enc, ctx.tensor('dlogits', [6, 11]), logits, targets, r6(), r6())).toThrow(
      /logprob_backward: dlogits has shape \[6, 11\], expected \[6, 10\]/,
    );
  });
});
