import { describe, expect, it } from 'vitest';
import { geluBackward, geluForward } from '../../src/model/gelu';
import * as ref from '../../src/reference/gelu';
import { gpuContext, readF64 } from '../helpers/gpu';
import { maxRelError, randomF64, roundF32, seeded } from '../helpers/numeric';

describe('gelu kernel vs float64 reference', () => {
  for (const n of [4, 1020, 4 * 70_001]) {
    it(`forward and backward, ${n} elements`, async () => {
      const ctx = await gpuContext();
      const rng = seeded(`gelu-${n}`);
      const x = roundF32(randomF64(rng, n, 3));
      const dy = roundF32(randomF64(rng, n));
      const xt = ctx.tensorFrom('x', [n], Float32Array.from(x));
      const dyt = ctx.tensorFrom('dy', [n], Float32Array.from(dy));
      const yt = ctx.tensor('y', [n]);
      const dxt = ctx.tensor('dx', [n]);
      const enc = ctx.encoder('gelu-test');
      geluForward(enc, yt, xt);
      geluBackward(enc, dxt, xt, dyt);
      enc.submit();
      expect(maxRelError(await readF64(ctx, yt), ref.geluForward(x))).toBeLessThan(1e-4);
      expect(maxRelError(await readF64(ctx, dxt), ref.geluBackward(x, dy))).toBeLessThan(1e-4);
    });
  }

  it('rejects mismatched and non-vec4 sizes with the kernel name', async () => {
    const ctx = await gpuContext();
    const enc = ctx.encoder('bad');
    expect(() => geluForward(enc, ctx.tensor('y', [8]), ctx.tensor('x', [12]))).toThrow(
      /gelu_forward: y has 8/,
    );
    expect(() => geluForward(enc, ctx.tensor('y', [6]), ctx.tensor('x', [6]))).toThrow(/multiple of 4/);
  });
});
