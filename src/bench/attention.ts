// Benchmark entry for the attention family (shaders/attention.wgsl): training forward + backward at the bench
// model's shape (B=8, T=128, C=128, H=4 — one layer), and one KV-cache decode step (kvScatter +
// attentionDecode) for a ragged batch of 64 sequences and for a single sequence.
import { Rng } from '../core/rng';
import type { GpuContext, KernelEncoder } from '../gpu/context';
import {
  type AttentionDims,
  attentionBackward,
  attentionDecode,
  attentionForward,
  kvScatter,
} from '../model/attention';

export interface AttentionBenchResult {
  readonly dims: AttentionDims;
  /** Milliseconds per call, wall clock, averaged over back-to-back submits. */
  readonly forwardMs: number;
  readonly backwardMs: number;
  readonly forwardBackwardMs: number;
  /** One decode step of one layer with Tmax = T, positions drawn uniformly from [T/2, T). */
  readonly decode64Ms: number;
  readonly decode1Ms: number;
}

export const ATTENTION_BENCH_DIMS: AttentionDims = { B: 8, T: 128, C: 128, H: 4 };

/** Runs `record` once untimed (pipeline compilation), then `reps` times back to back; ms per call. */
async function timeCalls(
  ctx: GpuContext,
  reps: number,
  record: (enc: KernelEncoder) => void,
): Promise<number> {
  const warm = ctx.encoder('bench-attention-warmup');
  record(warm);
  warm.submit();
  const t0 = performance.now();
  await ctx.sync();
  const estimateMs = performance.now() - t0;
  const start = performance.now();
  for (let i = 0; i < reps; i++) {
    const enc = ctx.encoder('bench-attention');
    record(enc);
    enc.submit();
  }
  // Sleep through most of the expected time: Dawn spins a core while the completion promise is pending.
  await ctx.sync(Math.max(0, estimateMs * reps * 0.8));
  return (performance.now() - start) / reps;
}

function randomData(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

export async function benchAttention(ctx: GpuContext, reps = 10, seed = 1): Promise<AttentionBenchResult> {
  const dims = ATTENTION_BENCH_DIMS;
  const { B, T, C, H } = dims;
  const rng = new Rng(seed).fork('bench-attention');
  const qkv = ctx.tensorFrom('qkv', [B, T, 3 * C], randomData(rng, B * T * 3 * C));
  const dout = ctx.tensorFrom('dout', [B, T, C], randomData(rng, B * T * C));
  const keyMask = ctx.tensorFrom('keyMask', [B, T], new Uint32Array(B * T).fill(1));
  const out = ctx.tensor('out', [B, T, C]);
  const lse = ctx.tensor('lse', [B, H, T]);
  const dqkv = ctx.tensor('dqkv', [B, T, 3 * C]);

  const forwardMs = await timeCalls(ctx, reps, (enc) => attentionForward(enc, out, lse, qkv, keyMask, dims));
  const backwardMs = await timeCalls(ctx, reps, (enc) =>
    attentionBackward(enc, dqkv, dout, qkv, out, lse, keyMask, dims),
  );
  const forwardBackwardMs = await timeCalls(ctx, reps, (enc) => {
    attentionForward(enc, out, lse, qkv, keyMask, dims);
    attentionBackward(enc, dqkv, dout, qkv, out, lse, keyMask, dims);
  });

  const decodeMs = async (sequences: number): Promise<number> => {
    const d: AttentionDims = { B: sequences, T, C, H };
    const cache = ctx.tensorFrom('cache', [sequences, T, 3 * C], randomData(rng, sequences * T * 3 * C));
    const qkvNew = ctx.tensorFrom('qkvNew', [sequences, 3 * C], randomData(rng, sequences * 3 * C));
    const positions = Uint32Array.from({ length: sequences }, () => T / 2 + rng.int(T / 2));
    const positionsT = ctx.tensorFrom('positions', [sequences], positions);
    const mask = ctx.tensorFrom('keyMask', [sequences, T], new Uint32Array(sequences * T).fill(1));
    const decoded = ctx.tensor('decoded', [sequences, C]);
    return timeCalls(ctx, reps * 5, (enc) => {
      kvScatter(enc, cache, qkvNew, positionsT, d);
      attentionDecode(enc, decoded, cache, positionsT, mask, d);
    });
  };
  const decode64Ms = await decodeMs(64);
  const decode1Ms = await decodeMs(1);
  return { dims, forwardMs, backwardMs, forwardBackwardMs, decode64Ms, decode1Ms };
}
