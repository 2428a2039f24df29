// Matmul throughput on the current adapter: the plan's chosen kernel, every variant, and the naive baseline,
// at square sizes and at the bench model's real shapes (src/core/model-config.ts BENCH_MODEL).
import { BENCH_MODEL, type ModelConfig } from '../core/model-config';
import { Rng } from '../core/rng';
import type { GpuContext } from '../gpu/context';
import type { Tensor } from '../gpu/tensor';
import { gemm, MATMUL_KERNELS, type MatmulVariant, matmulPlan, matmulShapeClass } from '../model/matmul';

/** C(M,N) = op(A)·op(B) with A (M,K) or (K,M) and B (K,N) or (N,K). */
export interface GemmShape {
  readonly name: string;
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly transA: boolean;
  readonly transB: boolean;
}

export interface GemmBenchRow {
  readonly shape: GemmShape;
  /** GFLOP/s (2·M·N·K per call) per variant name (`reg16 8x8`, …, `naive`). */
  readonly gflops: Readonly<Record<string, number>>;
  /** The plan's variant for this shape and its GFLOP/s. */
  readonly chosen: string;
  readonly chosenGflops: number;
  readonly naiveGflops: number;
}

export interface MatmulBenchOptions {
  /** Square sizes n: C(n,n) = A(n,n)·B(n,n)ᵀ. */
  readonly sizes?: readonly number[];
  /** Timed rounds per variant and shape; the best round counts (the machine is shared). */
  readonly repeats?: number;
  /** Time one round aims for. */
  readonly roundMs?: number;
  readonly model?: ModelConfig;
  /** Rows per training step (B·T) and per decode step. */
  readonly trainRows?: number;
  readonly decodeRows?: readonly number[];
  /** Variants besides the plan's; default every kernel at its default workgroup. */
  readonly variants?: readonly MatmulVariant[];
}

export const variantName = (v: MatmulVariant): string =>
  v.kernel === 'tiled' || v.kernel === 'naive' ? v.kernel : `${v.kernel} ${v.wg[0]}x${v.wg[1]}`;

export const DEFAULT_VARIANTS: readonly MatmulVariant[] = MATMUL_KERNELS.map((kernel) => ({
  kernel,
  wg: kernel === 'vec16' ? [8, 1] : [8, 8],
}));

/** The linear layers of one training step (forward, dinp, dweight) and of decoding, for `model`. */
export function modelShapes(
  model: ModelConfig,
  trainRows: number,
  decodeRows: readonly number[],
): GemmShape[] {
  const { width: C, vocabSize: V } = model;
  const layers: Array<[string, number, number]> = [
    ['qkv', C, 3 * C],
    ['proj', C, C],
    ['fc', C, 4 * C],
    ['fcproj', 4 * C, C],
    ['logits', C, V],
  ];
  const out: GemmShape[] = [];
  for (const [name, K, N] of layers) {
    const M = trainRows;
    out.push({ name: `${name} fwd`, M, N, K, transA: false, transB: true });
    out.push({ name: `${name} dinp`, M, N: K, K: N, transA: false, transB: false });
    out.push({ name: `${name} dW`, M: N, N: K, K: M, transA: true, transB: false });
  }
  for (const M of decodeRows) {
    out.push({ name: `decode qkv`, M, N: 3 * C, K: C, transA: false, transB: true });
    out.push({ name: `decode logits`, M, N: V, K: C, transA: false, transB: true });
  }
  return out;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Milliseconds per call of one variant: an untimed call (pipeline compile), an estimate, then `repeats` rounds
 * of back-to-back calls; the best round counts. Sleeps before awaiting: Dawn in Node spins while it waits.
 */
export async function timeGemm(
  ctx: GpuContext,
  shape: GemmShape,
  tensors: { a: Tensor; b: Tensor; c: Tensor },
  variant: MatmulVariant,
  repeats: number,
  roundMs: number,
): Promise<number> {
  const { M, N, K, transA, transB } = shape;
  const run = async (calls: number, expectedMs: number): Promise<number> => {
    const started = performance.now();
    const enc = ctx.encoder('bench-matmul');
    for (let i = 0; i < calls; i++) {
      gemm(enc, tensors.c, tensors.a, tensors.b, { M, N, K }, { transA, transB, variant });
    }
    enc.submit();
    await ctx.sync(Math.max(0, 0.8 * expectedMs - (performance.now() - started)));
    return performance.now() - started;
  };
  await run(1, 0);
  const estimate = Math.max(await run(1, 0), 0.01);
  const calls = Math.max(1, Math.min(100, Math.floor(roundMs / estimate)));
  let best = estimate;
  for (let r = 0; r < repeats; r++) {
    best = Math.min(best, (await run(calls, calls * estimate)) / calls);
    await sleep(1);
  }
  return best;
}

export async function benchGemmShape(
  ctx: GpuContext,
  shape: GemmShape,
  variants: readonly MatmulVariant[],
  repeats: number,
  roundMs: number,
): Promise<GemmBenchRow> {
  const { M, N, K } = shape;
  const rng = new Rng(7).fork(shape.name);
  const fill = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  const tensors = {
    a: ctx.tensorFrom('a', [M * K], fill(M * K)),
    b: ctx.tensorFrom('b', [K * N], fill(K * N)),
    c: ctx.tensor('c', [M * N]),
  };
  const chosenVariant = matmulPlan().choices[matmulShapeClass(M, N)];
  const all = [chosenVariant, ...variants.filter((v) => variantName(v) !== variantName(chosenVariant))];
  const gflops: Record<string, number> = {};
  try {
    for (const v of all) {
      const ms = await timeGemm(ctx, shape, tensors, v, v.kernel === 'naive' ? 1 : repeats, roundMs);
      gflops[variantName(v)] = (2 * M * N * K) / (ms * 1e6);
    }
  } finally {
    for (const t of Object.values(tensors)) ctx.destroyBuffer(t.buffer);
  }
  const chosen = variantName(chosenVariant);
  return { shape, gflops, chosen, chosenGflops: gflops[chosen], naiveGflops: gflops.naive ?? Number.NaN };
}

/** GFLOP/s of the chosen kernel, every variant and the naive baseline, at square sizes and the model's shapes. */
export async function benchMatmul(
  ctx: GpuContext,
  options: MatmulBenchOptions = {},
): Promise<GemmBenchRow[]> {
  const sizes = options.sizes ?? [256, 512, 1024];
  const repeats = options.repeats ?? 3;
  const roundMs = options.roundMs ?? 300;
  const variants = options.variants ?? DEFAULT_VARIANTS;
  const model = options.model ?? BENCH_MODEL;
  const shapes: GemmShape[] = [
    ...sizes.map((n) => ({ name: `square ${n}`, M: n, N: n, K: n, transA: false, transB: true })),
    ...modelShapes(model, options.trainRows ?? 8 * model.contextLength, options.decodeRows ?? [64, 1]),
  ];
  const rows: GemmBenchRow[] = [];
  for (const shape of shapes) rows.push(await benchGemmShape(ctx, shape, variants, repeats, roundMs));
  return rows;
}
