import { describe, expect, it } from 'vitest';
import { matmulBackward, matmulForward } from '../../src/reference/matmul';
import { finiteDifference, randomF64, seeded } from '../helpers/numeric';

describe('reference matmul', () => {
  it('forward matches a hand-computed product with bias', () => {
    // inp (2,3), weight (2,3): out[m][n] = Σ_k inp[m][k]·weight[n][k] + bias[n]
    const inp = Float64Array.from([1, 2, 3, 4, 5, 6]);
    const weight = Float64Array.from([1, 0, -1, 0.5, 0.5, 0.5]);
    const out = matmulForward(inp, weight, Float64Array.from([10, 20]), 2, 3, 2);
    expect([...out]).toEqual([1 - 3 + 10, 3 + 20, 4 - 6 + 10, 7.5 + 20]);
    expect([...matmulForward(inp, weight, null, 2, 3, 2)]).toEqual([-2, 3, -2, 7.5]);
  });

  // Loss = Σ out ⊙ w for a fixed random w, so dL/dout = w; every input coordinate is checked.
  for (const [M, K, N] of [
    [3, 5, 4],
    [1, 7, 2],
    [6, 4, 3],
  ]) {
    it(`backward matches central finite differences, M=${M} K=${K} N=${N}`, () => {
      const rng = seeded(`matmul-fd-${M}-${K}-${N}`);
      const inp = randomF64(rng, M * K);
      const weight = randomF64(rng, N * K);
      const bias = randomF64(rng, N);
      const w = randomF64(rng, M * N);
      const loss = () => matmulForward(inp, weight, bias, M, K, N).reduce((s, v, i) => s + v * w[i], 0);
      const { dinp, dweight, dbias } = matmulBackward(w, inp, weight, M, K, N);
      for (const [x, analytic] of [
        [inp, dinp],
        [weight, dweight],
        [bias, dbias],
      ] as const) {
        for (const [i, numeric] of finiteDifference(loss, x)) {
          expect(Math.abs(analytic[i] - numeric)).toBeLessThan(1e-7 * Math.max(1, Math.abs(numeric)));
        }
      }
    });
  }
});
