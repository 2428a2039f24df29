import { describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context';
import type { Tensor } from '../../src/gpu/tensor';
import { adamwStep, createAdamWState, GRAD_NORM_PARTS, gradNorm, STATS } from '../../src/model/adamw';
import * as ref from '../../src/reference/adamw';
import { gpuContext, readF64 } from '../helpers/gpu';
import { maxRelError, randomF64, roundF32, seeded } from '../helpers/numeric';

const HYPER = { lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };

/** A flat optimizer setup of N floats: parameters and moments on the GPU, their float64 twins on the CPU. */
function setup(ctx: GpuContext, n: number, label: string) {
  const rng = seeded(label);
  const params = roundF32(randomF64(rng, n, 0.5));
  const state = createAdamWState(ctx, n);
  return {
    rng,
    gpu: {
      params: ctx.tensorFrom('params', [n], Float32Array.from(params)),
      grads: ctx.tensor('grads', [n]),
      ...state,
    },
    cpu: { params, m: new Float64Array(n), v: new Float64Array(n) },
  };
}

type Gpu = ReturnType<typeof setup>['gpu'];

function optimizerStep(ctx: GpuContext, gpu: Gpu, step: number, decayEnd: number, maxNorm: number): void {
  const enc = ctx.encoder('adamw-test');
  gradNorm(enc, gpu.stats, gpu.grads, maxNorm, gpu.partials);
  adamwStep(enc, gpu, HYPER, step, decayEnd);
  enc.submit();
}

async function readAll(ctx: GpuContext, ts: Tensor[]): Promise<Float32Array[]> {
  return (await ctx.readMany(ts)) as Float32Array[];
}

describe('gradient norm kernel vs float64 reference', () => {
  // 64·37: fewer vec4s than one workgroup's grid; 300,032: every one of the 256 partial workgroups loops.
  for (const n of [64 * 37, 64 * 1500, 64 * 4688]) {
    it(`Σg², norm and clip factor, ${n} elements`, async () => {
      const ctx = await gpuContext();
      const { rng, gpu } = setup(ctx, n, `norm-${n}`);
      const g = roundF32(randomF64(rng, n, 0.01));
      ctx.write(gpu.grads, Float32Array.from(g));
      const norm = ref.globalNorm(g);
      for (const maxNorm of [0, norm / 3, norm * 2]) {
        const enc = ctx.encoder('norm-test');
        gradNorm(enc, gpu.stats, gpu.grads, maxNorm, gpu.partials);
        enc.submit();
        const s = await readF64(ctx, gpu.stats);
        expect(Math.abs(s[STATS.sumSq] - norm * norm) / (norm * norm)).toBeLessThan(1e-5);
        expect(Math.abs(s[STATS.norm] - norm) / norm).toBeLessThan(1e-5);
        expect(Math.abs(s[STATS.clipScale] - ref.clipScale(norm, maxNorm))).toBeLessThan(1e-5);
        expect(s[STATS.nonFinite]).toBe(0);
      }
    });
  }

  it('flags NaN, ±Inf and an overflowing Σg²', async () => {
    const ctx = await gpuContext();
    const n = 64 * 37;
    const { gpu } = setup(ctx, n, 'norm-flags');
    for (const [index, value] of [
      [5, Number.NaN],
      [n - 1, Number.POSITIVE_INFINITY],
      [1234, Number.NEGATIVE_INFINITY],
    ]) {
      const g = new Float32Array(n).fill(0.5);
      g[index] = value;
      ctx.write(gpu.grads, g);
      const enc = ctx.encoder('norm-flags');
      gradNorm(enc, gpu.stats, gpu.grads, 1, gpu.partials);
      enc.submit();
      expect((await ctx.read(gpu.stats))[STATS.nonFinite]).toBe(1);
    }
    ctx.write(gpu.grads, new Float32Array(n).fill(1e30));
    const enc = ctx.encoder('norm-overflow');
    gradNorm(enc, gpu.stats, gpu.grads, 1, gpu.partials);
    enc.submit();
    expect((await ctx.read(gpu.stats))[STATS.nonFinite]).toBe(1);
  });
});

describe('AdamW kernel vs float64 reference', () => {
  for (const clip of [false, true]) {
    it(`5 steps, clipping ${clip ? 'on' : 'off'}, decay on a prefix`, async () => {
      const ctx = await gpuContext();
      const n = 64 * 37;
      const decayEnd = 64 * 20;
      const { rng, gpu, cpu } = setup(ctx, n, `adamw-${clip}`);
      for (let step = 1; step <= 5; step++) {
        const g = roundF32(randomF64(rng, n, 0.05 * step));
        ctx.write(gpu.grads, Float32Array.from(g));
        const norm = ref.globalNorm(g);
        const maxNorm = clip ? norm / 4 : 0;
        optimizerStep(ctx, gpu, step, decayEnd, maxNorm);
        ref.adamwStep(cpu.params, g, cpu.m, cpu.v, step, HYPER, decayEnd, ref.clipScale(norm, maxNorm));
        const [p, m, v, s] = await readAll(ctx, [gpu.params, gpu.m, gpu.v, gpu.stats]);
        expect(s[STATS.clipScale]).toBeCloseTo(clip ? 0.25 : 1, 5);
        expect(maxRelError(p, cpu.params)).toBeLessThan(1e-5);
        expect(maxRelError(m, cpu.m)).toBeLessThan(1e-5);
        expect(maxRelError(v, cpu.v)).toBeLessThan(1e-5);
      }
      // Weight decay must reach exactly the prefix: compare the step's effect on both sides of decayEnd.
      const p = await readF64(ctx, gpu.params);
      expect(maxRelError(p.subarray(0, decayEnd), cpu.params.subarray(0, decayEnd))).toBeLessThan(1e-5);
      expect(maxRelError(p.subarray(decayEnd), cpu.params.subarray(decayEnd))).toBeLessThan(1e-5);
    });
  }

  it('a NaN or Inf gradient skips the step: params, m and v stay bitwise unchanged', async () => {
    const ctx = await gpuContext();
    const n = 64 * 37;
    const { rng, gpu } = setup(ctx, n, 'adamw-nan');
    ctx.write(gpu.grads, Float32Array.from(randomF64(rng, n, 0.1)));
    optimizerStep(ctx, gpu, 1, n, 1);
    const before = await readAll(ctx, [gpu.params, gpu.m, gpu.v]);
    expect(before[1].some((x) => x !== 0)).toBe(true);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const g = Float32Array.from(randomF64(rng, n, 0.1));
      g[777] = bad;
      ctx.write(gpu.grads, g);
      optimizerStep(ctx, gpu, 2, n, 1);
      const after = await readAll(ctx, [gpu.params, gpu.m, gpu.v, gpu.stats]);
      expect(after[3][STATS.nonFinite]).toBe(1);
      for (let k = 0; k < 3; k++)
        expect(Buffer.from(after[k].buffer).equals(Buffer.from(before[k].buffer))).toBe(true);
    }
    // The next finite step proceeds as usual.
    ctx.write(gpu.grads, Float32Array.from(randomF64(rng, n, 0.1)));
    optimizerStep(ctx, gpu, 2, n, 1);
    const [p] = await readAll(ctx, [gpu.params]);
    expect(p.every(Number.isFinite)).toBe(true);
    expect(Buffer.from(p.buffer).equals(Buffer.from(before[0].buffer))).toBe(false);
  });

  it('is bitwise deterministic', async () => {
    const ctx = await gpuContext();
    const n = 64 * 1500;
    const run = async () => {
      const { rng, gpu } = setup(ctx, n, 'adamw-determinism');
      for (let step = 1; step <= 3; step++) {
        ctx.write(gpu.grads, Float32Array.from(randomF64(rng, n, 0.1)));
        optimizerStep(ctx, gpu, step, 64 * 700, 2);
      }
      return readAll(ctx, [gpu.params, gpu.m, gpu.v, gpu.stats]);
    };
    const a = await run();
    const b = await run();
    for (let k = 0; k < a.length; k++)
      expect(Buffer.from(a[k].buffer).equals(Buffer.from(b[k].buffer))).toBe(true);
  });

  it('rejects bad shapes and arguments with the kernel name', async () => {
    const ctx = await gpuContext();
    const { gpu } = setup(ctx, 64, 'adamw-shapes');
    const enc = ctx.encoder('bad');
    expect(() => adamwStep(enc, { ...gpu, m: ctx.tensor('m', [60]) }, HYPER, 1, 0)).toThrow(
      /adamw_update: m has shape \[60\], expected \[64\]/,
    );
    expect(() => adamwStep(enc, { ...gpu, params: ctx.tensor('p', [6]) }, HYPER, 1, 0)).toThrow(
      /multiple of 4/,
    );
    expect(() => adamwStep(enc, gpu, HYPER, 0, 0)).toThrow(/adamw_update: step/);
    expect(() => adamwStep(enc, gpu, HYPER, 1, 65)).toThrow(/adamw_update: decayEnd/);
    expect(() => gradNorm(enc, ctx.tensor('s', [3]), gpu.grads, 1, gpu.partials)).toThrow(
      /grad_norm: s has shape \[3\], expected \[4\]/,
    );
    expect(() => gradNorm(enc, gpu.stats, gpu.grads, 1, ctx.tensor('p', [GRAD_NORM_PARTS]))).toThrow(
      /grad_norm: p/,
    );
  });
});
