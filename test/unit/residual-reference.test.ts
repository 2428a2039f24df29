import { describe, expect, it } from 'vitest';
import { addBackward, addForward } from '../../src/reference/residual';
import { finiteDifference, randomF64, seeded } from '../helpers/numeric';

describe('reference residual add', () => {
  it('backward matches central finite differences for both operands', () => {
    const rng = seeded('residual-fd');
    const a = randomF64(rng, 24);
    const b = randomF64(rng, 24);
    const w = randomF64(rng, 24);
    const loss = () => addForward(a, b).reduce((s, v, i) => s + v * v * w[i], 0);
    // d/dout of Σ w·out² is 2·w·out.
    const dout = addForward(a, b).map((v, i) => 2 * w[i] * v);
    const { da, db } = addBackward(dout);
    for (const [x, g] of [
      [a, da],
      [b, db],
    ]) {
      for (const [i, numeric] of finiteDifference(loss, x)) {
        expect(Math.abs(g[i] - numeric)).toBeLessThan(1e-6 * Math.max(1, Math.abs(numeric)));
      }
    }
  });

  it('rejects operands of different lengths', () => {
    expect(() => addForward(new Float64Array(4), new Float64Array(8))).toThrow(/4 vs 8/);
  });
});
