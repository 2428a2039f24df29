// Benchmark entry for the embedding, layernorm, residual and logprob families at the bench model's shape
// (B·T = 8·128 rows, C = 128, V = 256; decode: B = 8 sequences). Wall-clock ms per kernel call.
import { Rng } from '../core/rng';
import type { GpuContext, KernelEncoder } from '../gpu/context';
import {
  bucketCapacity,
  buildPositionBuckets,
  buildTokenBuckets,
  embeddingBackward,
  embeddingDecode,
  embeddingForward,
  writeBuckets,
} from '../model/embedding';
import { layernormBackward, layernormForward, layernormScratchShape } from '../model/layernorm';
import { logprobBackward, logprobForward } from '../model/logprob';
import { addForward, addInPlace } from '../model/residual';
import { type RowTuning, rowTuningFor } from '../model/row-tuning';

export const ELEMENTWISE_BENCH_DIMS = { B: 8, T: 128, C: 128, V: 256 } as const;

export interface ElementwiseBenchResult {
  readonly dims: typeof ELEMENTWISE_BENCH_DIMS;
  /** Milliseconds per launcher call (a backward counts all its dispatches), keyed by launcher. */
  readonly ms: Readonly<Record<string, number>>;
  /** CPU time to build and upload both bucket indexes for one batch (part of embedding backward's cost). */
  readonly bucketBuildMs: number;
  /** Threads per row the layernorm and logprob kernels ran with (rowTuningFor the adapter unless given). */
  readonly tuning: RowTuning;
}

/**
 * Records `record` once untimed (pipeline compilation), then `reps` submits of `perSubmit` calls each;
 * returns ms per call. Several calls per submit keep the per-submit overhead out of small kernels' numbers.
 */
async function timeCalls(
  ctx: GpuContext,
  reps: number,
  perSubmit: number,
  record: (enc: KernelEncoder) => void,
): Promise<number> {
  const warm = ctx.encoder('bench-elementwise-warmup');
  record(warm);
  warm.submit();
  const t0 = performance.now();
  await ctx.sync();
  const estimateMs = performance.now() - t0;
  const start = performance.now();
  for (let r = 0; r < reps; r++) {
    const enc = ctx.encoder('bench-elementwise');
    for (let k = 0; k < perSubmit; k++) record(enc);
    enc.submit();
  }
  // Sleep through most of the expected time: Dawn spins a core while the completion promise is pending.
  await ctx.sync(Math.max(0, estimateMs * reps * perSubmit * 0.7));
  return (performance.now() - start) / (reps * perSubmit);
}

export async function benchElementwise(
  ctx: GpuContext,
  reps = 5,
  perSubmit = 8,
  seed = 1,
  tuning: RowTuning = rowTuningFor(ctx.info),
): Promise<ElementwiseBenchResult> {
  const dims = ELEMENTWISE_BENCH_DIMS;
  const { B, T, C, V } = dims;
  const N = B * T;
  const rng = new Rng(seed).fork('bench-elementwise');
  const normal = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  const tokens = Uint32Array.from({ length: N }, () => rng.int(V));
  const positions = Uint32Array.from({ length: N }, (_, n) => n % T);

  const x = ctx.tensorFrom('x', [B, T, C], normal(N * C));
  const y = ctx.tensorFrom('y', [B, T, C], normal(N * C));
  const out = ctx.tensor('out', [B, T, C]);
  const dx = ctx.tensor('dx', [B, T, C]);
  const wte = ctx.tensorFrom('wte', [V, C], normal(V * C));
  const wpe = ctx.tensorFrom('wpe', [T, C], normal(T * C));
  const dwte = ctx.tensor('dwte', [V, C]);
  const dwpe = ctx.tensor('dwpe', [T, C]);
  const tokensT = ctx.tensorFrom('tokens', [B, T], tokens);
  const positionsT = ctx.tensorFrom('positions', [B, T], positions);
  const decodePositions = ctx.tensorFrom(
    'decodePositions',
    [B],
    Uint32Array.from({ length: B }, () => rng.int(T)),
  );
  const decodeOut = ctx.tensor('decodeOut', [B, C]);
  const tokenBuckets = ctx.tensor('tokenBuckets', [bucketCapacity(N, V)], 'u32');
  const positionBuckets = ctx.tensor('positionBuckets', [bucketCapacity(N, T)], 'u32');
  const weight = ctx.tensorFrom('lnw', [C], normal(C));
  const bias = ctx.tensorFrom('lnb', [C], normal(C));
  const dweight = ctx.tensor('dlnw', [C]);
  const dbias = ctx.tensor('dlnb', [C]);
  const mean = ctx.tensor('mean', [B, T]);
  const rstd = ctx.tensor('rstd', [B, T]);
  const scratch = ctx.tensor('lnScratch', layernormScratchShape(N, C));
  const logits = ctx.tensorFrom('logits', [B, T, V], normal(N * V));
  const dlogits = ctx.tensor('dlogits', [B, T, V]);
  const logp = ctx.tensor('logp', [B, T]);
  const entropy = ctx.tensor('entropy', [B, T]);
  const gLogp = ctx.tensorFrom('gLogp', [B, T], normal(N));
  const gEntropy = ctx.tensorFrom('gEntropy', [B, T], normal(N));

  const bucketStart = performance.now();
  const tokenIndex = writeBuckets(ctx, tokenBuckets, buildTokenBuckets(tokens, V));
  const positionIndex = writeBuckets(ctx, positionBuckets, buildPositionBuckets(positions, T));
  const bucketBuildMs = performance.now() - bucketStart;

  const cases: Array<[string, (enc: KernelEncoder) => void]> = [
    ['embeddingForward', (enc) => embeddingForward(enc, out, tokensT, positionsT, wte, wpe)],
    ['embeddingDecode', (enc) => embeddingDecode(enc, decodeOut, tokensT, decodePositions, wte, wpe)],
    ['embeddingBackward', (enc) => embeddingBackward(enc, dwte, dwpe, x, tokenIndex, positionIndex)],
    ['layernormForward', (enc) => layernormForward(enc, out, mean, rstd, x, weight, bias, { tuning })],
    [
      'layernormBackward',
      (enc) =>
        layernormBackward(enc, dx, dweight, dbias, scratch, y, x, weight, mean, rstd, {
          accumulate: true,
          tuning,
        }),
    ],
    ['addForward', (enc) => addForward(enc, out, x, y)],
    ['addInPlace', (enc) => addInPlace(enc, dx, y)],
    ['logprobForward', (enc) => logprobForward(enc, logp, entropy, logits, tokensT, tuning)],
    ['logprobBackward', (enc) => logprobBackward(enc, dlogits, logits, tokensT, gLogp, gEntropy, tuning)],
  ];
  const ms: Record<string, number> = {};
  for (const [name, record] of cases) ms[name] = await timeCalls(ctx, reps, perSubmit, record);
  return { dims, ms, bucketBuildMs, tuning };
}
