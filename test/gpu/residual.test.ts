import { describe, expect, it } from 'vitest';
import { addForward, addInPlace } from '../../src/model/residual';
import * as ref from '../../src/reference/residual';
import { gpuContext, readF64 } from '../helpers/gpu';
import { maxRelError, randomF64, roundF32, seeded } from '../helpers/numeric';

describe('residual add kernels vs float64 reference', () => {
  // (B,T,C) shapes; 3·37·20 is not a multiple of the workgroup size, 2·300·448 needs several workgroups.
  for (const shape of [
    [1, 1, 4],
    [3, 37, 20],
    [2, 300, 448],
  ]) {
    it(`out = a + b and acc += b, shape ${shape.join('×')}`, async () => {
      const ctx = await gpuContext();
      const n = shape[0] * shape[1] * shape[2];
      const rng = seeded(`residual-${n}`);
      const a = roundF32(randomF64(rng, n));
      const b = roundF32(randomF64(rng, n));
      const at = ctx.tensorFrom('a', shape, Float32Array.from(a));
      const bt = ctx.tensorFrom('b', shape, Float32Array.from(b));
      const out = ctx.tensor('out', shape);
      const acc = ctx.tensorFrom('acc', shape, Float32Array.from(a));
      const enc = ctx.encoder('residual-test');
      addForward(enc, out, at, bt);
      // Twice, so a kernel that overwrote instead of accumulating would fail.
      addInPlace(enc, acc, bt);
      addInPlace(enc, acc, bt);
      enc.submit();
      const expected = ref.addForward(a, b);
      expect(maxRelError(await readF64(ctx, out), expected)).toBeLessThan(1e-6);
      expect(maxRelError(await readF64(ctx, acc), ref.addForward(expected, b))).toBeLessThan(1e-6);
    });
  }

  it('rejects mismatched shapes, empty tensors and non-vec4 sizes with the kernel name', async () => {
    const ctx = await gpuContext();
    const enc = ctx.encoder('bad');
    const x = ctx.tensor('x', [2, 8]);
    expect(() => addForward(enc, x, ctx.tensor('a', [2, 8]), ctx.tensor('b', [8, 2]))).toThrow(
      /add_forward: b has shape \[8, 2\], expected \[2, 8\]/,
    );
    expect(() => addInPlace(enc, x, ctx.tensor('b', [16]))).toThrow(/add_in_place: b has shape \[16\]/);
    expect(() => addInPlace(enc, ctx.tensor('acc', [0, 8]), ctx.tensor('b', [0, 8]))).toThrow(
      /add_in_place: elements must be a positive integer, got 0/,
    );
    expect(() => addInPlace(enc, ctx.tensor('acc', [6]), ctx.tensor('b', [6]))).toThrow(/multiple of 4/);
  });
});
