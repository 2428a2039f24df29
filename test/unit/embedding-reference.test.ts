import { describe, expect, it } from 'vitest';
import { embeddingBackward, embeddingForward } from '../../src/reference/embedding';
import { finiteDifference, randomF64, seeded } from '../helpers/numeric';

describe('reference embedding', () => {
  it('backward matches central finite differences, repeated tokens and positions included', () => {
    const rng = seeded('embedding-fd');
    const V = 5;
    const T = 4;
    const C = 3;
    // Two sequences packed in rows (lengths 4 and 2); token 1 appears three times, position 0 twice.
    const tokens = Uint32Array.from([1, 3, 1, 0, 1, 4]);
    const positions = Uint32Array.from([0, 1, 2, 3, 0, 1]);
    const wte = randomF64(rng, V * C);
    const wpe = randomF64(rng, T * C);
    const probe = randomF64(rng, tokens.length * C);
    const loss = () =>
      embeddingForward(tokens, positions, wte, wpe, C).reduce((s, v, i) => s + v * probe[i], 0);
    const { dwte, dwpe } = embeddingBackward(probe, tokens, positions, V, T, C);
    for (const [param, grad] of [
      [wte, dwte],
      [wpe, dwpe],
    ]) {
      for (const [i, numeric] of finiteDifference(loss, param)) {
        expect(Math.abs(grad[i] - numeric)).toBeLessThan(1e-7 * Math.max(1, Math.abs(numeric)));
      }
    }
    // Token 2 never appears: its gradient row is exactly zero.
    expect(dwte.subarray(2 * C, 3 * C).every((g) => g === 0)).toBe(true);
  });

  it('rejects out-of-range tokens and positions', () => {
    const wte = new Float64Array(2 * 4);
    const wpe = new Float64Array(3 * 4);
    expect(() => embeddingForward(Uint32Array.of(2), Uint32Array.of(0), wte, wpe, 4)).toThrow(
      /token 2 at row 0/,
    );
    expect(() =>
      embeddingBackward(new Float64Array(8), Uint32Array.of(0, 1), Uint32Array.of(0, 3), 2, 3, 4),
    ).toThrow(/position 3 at row 1/);
  });
});
