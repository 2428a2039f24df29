import { describe, expect, it } from 'vitest';
import type { Rng } from '../../src/core/rng';
import { ShapeError } from '../../src/gpu/errors';
import {
  bucketCapacity,
  buildPositionBuckets,
  buildTokenBuckets,
  embeddingBackward,
  embeddingDecode,
  embeddingForward,
  writeBuckets,
} from '../../src/model/embedding';
import * as ref from '../../src/reference/embedding';
import { gpuContext, readF64 } from '../helpers/gpu';
import { maxRelError, randomF64, roundF32, seeded } from '../helpers/numeric';

/** Packed rows of sequences with the given lengths: positions 0..len−1 each, tokens from a small range. */
function packedBatch(rng: Rng, lengths: number[], V: number) {
  const positions = Uint32Array.from(lengths.flatMap((len) => [...Array(len).keys()]));
  const tokens = Uint32Array.from(positions, () => rng.int(V));
  return { tokens, positions };
}

async function runBackward(tokens: Uint32Array, positions: Uint32Array, V: number, T: number, C: number) {
  const ctx = await gpuContext();
  const N = tokens.length;
  const rng = seeded(`embedding-bwd-${N}-${V}-${T}-${C}`);
  const dout = roundF32(randomF64(rng, N * C));
  const dwteInit = roundF32(randomF64(rng, V * C));
  const dwteT = ctx.tensorFrom('dwte', [V, C], Float32Array.from(dwteInit));
  // Stale values everywhere: dwpe must be overwritten, unused positions included.
  const dwpeT = ctx.tensorFrom('dwpe', [T, C], new Float32Array(T * C).fill(5));
  const doutT = ctx.tensorFrom('dout', [N, C], Float32Array.from(dout));
  const tokenIndex = writeBuckets(
    ctx,
    ctx.tensor('tokenBuckets', [bucketCapacity(N, V)], 'u32'),
    buildTokenBuckets(tokens, V),
  );
  const positionIndex = writeBuckets(
    ctx,
    ctx.tensor('positionBuckets', [bucketCapacity(N, T)], 'u32'),
    buildPositionBuckets(positions, T),
  );
  const enc = ctx.encoder('embedding-bwd-test');
  embeddingBackward(enc, dwteT, dwpeT, doutT, tokenIndex, positionIndex);
  enc.submit();
  const [dwte, dwpe] = (await ctx.readMany([dwteT, dwpeT])).map((a) => Float64Array.from(a));
  const expected = ref.embeddingBackward(dout, tokens, positions, V, T, C);
  return {
    dwte,
    dwpe,
    dwteExpected: expected.dwte.map((g, i) => g + dwteInit[i]),
    dwpeExpected: expected.dwpe,
  };
}

describe('embedding kernels vs float64 reference', () => {
  // (N, C, V, T): N·C/4 not a multiple of the workgroup; V smaller than N so tokens repeat; a wide one.
  for (const [N, C, V, T] of [
    [1, 4, 2, 1],
    [111, 20, 50, 40],
    [300, 128, 1003, 128],
  ]) {
    it(`forward, N ${N}, C ${C}, V ${V}, T ${T}`, async () => {
      const ctx = await gpuContext();
      const rng = seeded(`embedding-fwd-${N}-${C}`);
      const tokens = Uint32Array.from({ length: N }, () => rng.int(V));
      const positions = Uint32Array.from({ length: N }, () => rng.int(T));
      const wte = roundF32(randomF64(rng, V * C));
      const wpe = roundF32(randomF64(rng, T * C));
      const out = ctx.tensor('out', [N, C]);
      const enc = ctx.encoder('embedding-fwd-test');
      embeddingForward(
        enc,
        out,
        ctx.tensorFrom('tokens', [N], tokens),
        ctx.tensorFrom('positions', [N], positions),
        ctx.tensorFrom('wte', [V, C], Float32Array.from(wte)),
        ctx.tensorFrom('wpe', [T, C], Float32Array.from(wpe)),
      );
      enc.submit();
      expect(
        maxRelError(await readF64(ctx, out), ref.embeddingForward(tokens, positions, wte, wpe, C)),
      ).toBeLessThan(1e-6);
    });
  }

  it('decode gathers each sequence’s current token on the GPU', async () => {
    const ctx = await gpuContext();
    const rng = seeded('embedding-decode');
    const [B, Tmax, C, V, T] = [5, 16, 36, 97, 20];
    const tokenGrid = Uint32Array.from({ length: B * Tmax }, () => rng.int(V));
    const positions = Uint32Array.from([0, 15, 3, 7, 3]);
    const wte = roundF32(randomF64(rng, V * C));
    const wpe = roundF32(randomF64(rng, T * C));
    const out = ctx.tensor('out', [B, C]);
    const enc = ctx.encoder('embedding-decode-test');
    embeddingDecode(
      enc,
      out,
      ctx.tensorFrom('tokens', [B, Tmax], tokenGrid),
      ctx.tensorFrom('positions', [B], positions),
      ctx.tensorFrom('wte', [V, C], Float32Array.from(wte)),
      ctx.tensorFrom('wpe', [T, C], Float32Array.from(wpe)),
    );
    enc.submit();
    const current = Uint32Array.from(positions, (p, b) => tokenGrid[b * Tmax + p]);
    expect(
      maxRelError(await readF64(ctx, out), ref.embeddingForward(current, positions, wte, wpe, C)),
    ).toBeLessThan(1e-6);
  });

  it('backward, a batch with mixed sequence lengths and repeated tokens', async () => {
    const { tokens, positions } = packedBatch(seeded('embedding-mixed'), [13, 1, 40, 7], 9);
    const r = await runBackward(tokens, positions, 9, 48, 20);
    expect(maxRelError(r.dwte, r.dwteExpected)).toBeLessThan(1e-4);
    expect(maxRelError(r.dwpe, r.dwpeExpected)).toBeLessThan(1e-4);
  });

  it('backward with positions in no particular order and a large vocabulary', async () => {
    const rng = seeded('embedding-shuffled');
    const N = 257;
    const tokens = Uint32Array.from({ length: N }, () => rng.int(1003));
    const positions = Uint32Array.from({ length: N }, () => rng.int(33));
    const r = await runBackward(tokens, positions, 1003, 33, 128);
    expect(maxRelError(r.dwte, r.dwteExpected)).toBeLessThan(1e-4);
    expect(maxRelError(r.dwpe, r.dwpeExpected)).toBeLessThan(1e-4);
  });

  it('backward is bitwise deterministic', async () => {
    const { tokens, positions } = packedBatch(seeded('embedding-det'), [64, 64, 30], 5);
    const a = await runBackward(tokens, positions, 5, 64, 32);
    const b = await runBackward(tokens, positions, 5, 64, 32);
    expect(Buffer.from(b.dwte.buffer).equals(Buffer.from(a.dwte.buffer))).toBe(true);
    expect(Buffer.from(b.dwpe.buffer).equals(Buffer.from(a.dwpe.buffer))).toBe(true);
  });
});

describe('bucket index', () => {
  it('groups rows by token in ascending order, only tokens present', () => {
    const b = buildTokenBuckets(Uint32Array.from([4, 1, 4, 0, 1, 4]), 6);
    expect([...b.ids]).toEqual([0, 1, 4]);
    expect([...b.offsets]).toEqual([0, 1, 3, 6]);
    expect([...b.rows]).toEqual([3, 1, 4, 0, 2, 5]);
  });

  it('lists every position, empty ones included', () => {
    const b = buildPositionBuckets(Uint32Array.from([0, 2, 0]), 4);
    expect([...b.ids]).toEqual([0, 1, 2, 3]);
    expect([...b.offsets]).toEqual([0, 2, 2, 3, 3]);
    expect([...b.rows]).toEqual([0, 2, 1]);
  });

  it('rejects a token id ≥ V and a position ≥ T on the CPU', () => {
    expect(() => buildTokenBuckets(Uint32Array.from([1, 7]), 7)).toThrow(ShapeError);
    expect(() => buildTokenBuckets(Uint32Array.from([1, 7]), 7)).toThrow(
      /embedding_backward: token 7 at row 1 is out of range/,
    );
    expect(() => buildPositionBuckets(Uint32Array.from([128]), 128)).toThrow(/position 128 at row 0/);
  });
});

describe('embedding launchers reject bad shapes', () => {
  it('names the kernel and both shapes', async () => {
    const ctx = await gpuContext();
    const enc = ctx.encoder('bad');
    const wte = ctx.tensor('wte', [10, 8]);
    const wpe = ctx.tensor('wpe', [4, 8]);
    const ids = (shape: number[]) => ctx.tensor('ids', shape, 'u32');
    expect(() => embeddingForward(enc, ctx.tensor('out', [3, 8]), ids([4]), ids([3]), wte, wpe)).toThrow(
      /embedding_forward: ids has shape \[4\], expected \[3\]/,
    );
    expect(() => embeddingForward(enc, ctx.tensor('out', [3, 12]), ids([3]), ids([3]), wte, wpe)).toThrow(
      /embedding_forward: wte has shape \[10, 8\], expected \[10, 12\]/,
    );
    expect(() =>
      embeddingForward(enc, ctx.tensor('out', [3, 6]), ids([3]), ids([3]), ctx.tensor('w', [10, 6]), wpe),
    ).toThrow(/C = 6 must be a multiple of 4/);
    expect(() => embeddingForward(enc, ctx.tensor('out', [0, 8]), ids([0]), ids([0]), wte, wpe)).toThrow(
      /embedding_forward: rows must be a positive integer, got 0/,
    );
    expect(() =>
      embeddingForward(enc, ctx.tensor('out', [2, 5, 8]), ids([2, 5]), ids([2, 5]), wte, wpe),
    ).toThrow(/embedding_forward: ids has 5 positions per sequence, context length is 4/);
    expect(() => embeddingDecode(enc, ctx.tensor('out', [2, 8]), ids([2, 6]), ids([2]), wte, wpe)).toThrow(
      /embedding_decode: ids holds 6 positions, context length is 4/,
    );
    const tokens = writeBuckets(
      ctx,
      ctx.tensor('tb', [64], 'u32'),
      buildTokenBuckets(Uint32Array.of(1, 2), 10),
    );
    const positions = writeBuckets(
      ctx,
      ctx.tensor('pb', [64], 'u32'),
      buildPositionBuckets(Uint32Array.of(0, 1), 4),
    );
    expect(() => embeddingBackward(enc, wte, wpe, ctx.tensor('dout', [3, 8]), tokens, positions)).toThrow(
      /embedding_backward: token buckets cover 2 rows with ids < 10, expected 3 rows/,
    );
    expect(() =>
      embeddingBackward(enc, wte, ctx.tensor('dwpe', [5, 8]), ctx.tensor('dout', [2, 8]), tokens, positions),
    ).toThrow(/embedding_backward: position buckets cover 2 rows with ids < 4, expected 2 rows and ids < 5/);
    const sparse = writeBuckets(
      ctx,
      ctx.tensor('sb', [64], 'u32'),
      buildTokenBuckets(Uint32Array.of(0, 1), 4),
    );
    expect(() => embeddingBackward(enc, wte, wpe, ctx.tensor('dout', [2, 8]), tokens, sparse)).toThrow(
      /position buckets list 2 positions, dwpe needs all 4/,
    );
  });
});
