// Launchers for shaders/adamw.wgsl: global gradient norm + clip factor, then the AdamW update. The two are
// linked through `stats` on the GPU, so an optimizer step needs no readback.
import adamwWgsl from '../../shaders/adamw.wgsl?raw';
import { f32, type GpuContext, type KernelEncoder, type KernelSource, u32 } from '../gpu/context';
import { grid1d } from '../gpu/dispatch';
import { ShapeError } from '../gpu/errors';
import { expectDType, expectPositive, expectShape, type Tensor } from '../gpu/tensor';

const WG = 256;
/** Workgroups of the first norm stage: enough to fill a GPU, and few enough for one workgroup to finish. */
export const GRAD_NORM_PARTS = 256;
/** Layout of `stats` (4) f32, written by `gradNorm`, read by `adamwStep` and by the metrics readback. */
export const STATS = { sumSq: 0, norm: 1, clipScale: 2, nonFinite: 3 } as const;

const kernel = (entryPoint: string): KernelSource => ({
  label: entryPoint,
  code: adamwWgsl,
  entryPoint,
  constants: { WG },
});
/** Invocations per workgroup of the norm's first stage; each invocation owns one partial sum. */
const PARTIALS_WG = 64;
const partialsKernel: KernelSource = { ...kernel('grad_norm_partials'), constants: { WG: PARTIALS_WG } };
const finishKernel: KernelSource = {
  label: 'grad_norm_finish',
  code: adamwWgsl,
  entryPoint: 'grad_norm_finish',
};
const updateKernel = kernel('adamw_update');

export interface AdamWHyper {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
}

export interface AdamWBuffers {
  /** (N) f32 each; N = layout.totalFloats. */
  readonly params: Tensor;
  readonly grads: Tensor;
  readonly m: Tensor;
  readonly v: Tensor;
  /** (4) f32 from `gradNorm`: [Σg², ‖g‖, clipScale, nonFinite]. */
  readonly stats: Tensor;
}

/** Zeroed moments, stats and the norm's scratch for a flat parameter buffer of `totalFloats` (N) floats. */
export function createAdamWState(
  ctx: GpuContext,
  totalFloats: number,
): { m: Tensor; v: Tensor; stats: Tensor; partials: Tensor } {
  expectPositive('adamw', { totalFloats });
  return {
    m: ctx.tensor('adam.m', [totalFloats]),
    v: ctx.tensor('adam.v', [totalFloats]),
    stats: ctx.tensor('grad.stats', [4]),
    partials: ctx.tensor('grad.norm.partials', [GRAD_NORM_PARTS, 2]),
  };
}

function flatVec4Count(kernelName: string, t: Tensor): number {
  expectDType(kernelName, t, 'f32');
  expectPositive(kernelName, { [`${t.name} elements`]: t.size });
  if (t.size % 4 !== 0) {
    throw new ShapeError(
      kernelName,
      `${t.name} has ${t.size} elements, expected a multiple of 4 (vec4 kernel)`,
    );
  }
  return t.size / 4;
}

/**
 * stats (4) ← [Σg², ‖g‖, min(1, maxNorm/(‖g‖+1e-6)) (1 when maxNorm ≤ 0), 1 if any gradient is NaN/Inf else 0].
 * grads (N) f32; partials (GRAD_NORM_PARTS, 2) f32 scratch (see `createAdamWState`).
 */
export function gradNorm(
  enc: KernelEncoder,
  stats: Tensor,
  grads: Tensor,
  maxNorm: number,
  partials: Tensor,
): void {
  const name = 'grad_norm';
  const n4 = flatVec4Count(name, grads);
  expectShape(name, stats, [4]);
  expectDType(name, stats, 'f32');
  expectShape(name, partials, [GRAD_NORM_PARTS, 2]);
  expectDType(name, partials, 'f32');
  if (!Number.isFinite(maxNorm)) throw new ShapeError(name, `maxNorm must be finite, got ${maxNorm}`);
  // Small buffers use fewer workgroups; P depends only on N, so the summation order is fixed for a model.
  const parts = Math.min(GRAD_NORM_PARTS, n4);
  const params = enc.params([u32(n4), u32(parts), f32(maxNorm)]);
  enc.dispatch(partialsKernel, [params, grads, partials], [Math.ceil(parts / PARTIALS_WG)]);
  enc.dispatch(finishKernel, [params, partials, stats], [1]);
}

/**
 * One AdamW step in place on params, m, v (N) f32, with gradients scaled by stats.clipScale; does nothing at
 * all when stats.nonFinite ≠ 0. `step` is 1-based; weight decay on elements [0, decayEnd).
 */
export function adamwStep(
  enc: KernelEncoder,
  buffers: AdamWBuffers,
  hyper: AdamWHyper,
  step: number,
  decayEnd: number,
): void {
  const name = 'adamw_update';
  const { params, grads, m, v, stats } = buffers;
  const n4 = flatVec4Count(name, params);
  for (const t of [grads, m, v]) {
    flatVec4Count(name, t);
    expectShape(name, t, params.shape);
  }
  expectShape(name, stats, [4]);
  expectDType(name, stats, 'f32');
  if (!Number.isInteger(step) || step < 1)
    throw new ShapeError(name, `step must be an integer ≥ 1, got ${step}`);
  if (!Number.isInteger(decayEnd) || decayEnd < 0 || decayEnd > params.size) {
    throw new ShapeError(name, `decayEnd ${decayEnd} outside 0..${params.size}`);
  }
  const { lr, beta1, beta2, eps, weightDecay } = hyper;
  if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1)) {
    throw new ShapeError(name, `betas must lie in [0, 1), got ${beta1}, ${beta2}`);
  }
  if (![lr, eps, weightDecay].every(Number.isFinite)) {
    throw new ShapeError(name, `lr, eps and weightDecay must be finite, got ${lr}, ${eps}, ${weightDecay}`);
  }
  const uniforms = enc.params([
    u32(n4),
    u32(decayEnd),
    f32(lr),
    f32(beta1),
    f32(beta2),
    f32(1 - beta1),
    f32(1 - beta2),
    f32(1 - beta1 ** step),
    f32(1 - beta2 ** step),
    f32(eps),
    f32(lr * weightDecay),
  ]);
  enc.dispatch(updateKernel, [uniforms, grads, stats, params, m, v], grid1d(n4, WG));
}
