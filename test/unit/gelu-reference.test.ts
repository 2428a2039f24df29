import { describe, expect, it } from 'vitest';
import { geluBackward, geluForward } from '../../src/reference/gelu';
import { finiteDifference, randomF64, seeded } from '../helpers/numeric';

describe('reference gelu', () => {
  it('backward matches central finite differences', () => {
    const rng = seeded('gelu-fd');
    const x = randomF64(rng, 64, 2);
    const w = randomF64(rng, 64);
    const loss = () => geluForward(x).reduce((s, v, i) => s + v * w[i], 0);
    const analytic = geluBackward(x, w);
    for (const [i, numeric] of finiteDifference(loss, x)) {
      expect(Math.abs(analytic[i] - numeric)).toBeLessThan(1e-7 * Math.max(1, Math.abs(numeric)));
    }
  });
});
