import { describe, expect, it } from 'vitest';
import { layernormBackward, layernormForward } from '../../src/reference/layernorm';
import { finiteDifference, randomF64, seeded } from '../helpers/numeric';

describe('reference layernorm', () => {
  it('normalises each row to mean 0 and variance 1 before the affine map', () => {
    const rng = seeded('layernorm-stats');
    const R = 3;
    const C = 16;
    const x = randomF64(rng, R * C, 5).map((v) => v + 7);
    const { out, mean, rstd } = layernormForward(x, new Float64Array(C).fill(1), new Float64Array(C), R, C);
    for (let r = 0; r < R; r++) {
      const row = out.subarray(r * C, (r + 1) * C);
      const m = row.reduce((s, v) => s + v, 0) / C;
      const v = row.reduce((s, y) => s + (y - m) ** 2, 0) / C;
      expect(Math.abs(m)).toBeLessThan(1e-12);
      // Biased variance plus eps inside the root: exactly var/(var+eps).
      const rawVar = 1 / rstd[r] ** 2 - 1e-5;
      expect(v).toBeCloseTo(rawVar / (rawVar + 1e-5), 12);
      expect(mean[r]).toBeCloseTo(x.subarray(r * C, (r + 1) * C).reduce((s, y) => s + y, 0) / C, 12);
    }
  });

  it('backward matches central finite differences for input, weight and bias', () => {
    const rng = seeded('layernorm-fd');
    const R = 3;
    const C = 8;
    const x = randomF64(rng, R * C, 2);
    const w = randomF64(rng, C);
    const b = randomF64(rng, C);
    const probe = randomF64(rng, R * C);
    const loss = () => layernormForward(x, w, b, R, C).out.reduce((s, v, i) => s + v * probe[i], 0);
    const { mean, rstd } = layernormForward(x, w, b, R, C);
    const g = layernormBackward(probe, x, w, mean, rstd, R, C);
    for (const [param, grad] of [
      [x, g.dinp],
      [w, g.dweight],
      [b, g.dbias],
    ]) {
      for (const [i, numeric] of finiteDifference(loss, param)) {
        expect(Math.abs(grad[i] - numeric)).toBeLessThan(1e-7 * Math.max(1, Math.abs(numeric)));
      }
    }
  });
});
