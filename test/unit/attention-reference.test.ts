import { describe, expect, it } from 'vitest';
import { attentionBackward, attentionForward } from '../../src/reference/attention';
import { finiteDifference, randomF64, seeded } from '../helpers/numeric';

describe('reference attention', () => {
  it('backward matches central finite differences, with padding and a hidden middle span', () => {
    const [B, T, C, H] = [2, 6, 8, 2];
    const rng = seeded('attention-fd');
    const qkv = randomF64(rng, B * T * 3 * C, 1.5);
    const w = randomF64(rng, B * T * C);
    // Sequence 0: keys 2..3 hidden (tool result); sequence 1: last two positions are padding.
    const keyMask = Uint32Array.from([1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0]);
    const loss = () => attentionForward(qkv, keyMask, B, T, C, H).out.reduce((s, v, i) => s + v * w[i], 0);
    const analytic = attentionBackward(w, qkv, keyMask, B, T, C, H);
    let nonzero = 0;
    for (const [i, numeric] of finiteDifference(loss, qkv)) {
      expect(Math.abs(analytic[i] - numeric)).toBeLessThan(1e-7 * Math.max(1, Math.abs(numeric)));
      if (Math.abs(numeric) > 1e-6) nonzero++;
    }
    // Most coordinates matter; a backward that returned zeros would fail above only where FD is large.
    expect(nonzero).toBeGreaterThan(qkv.length / 2);
  });

  it('a key hidden by the mask has no influence on later queries, the diagonal always attends', () => {
    const [B, T, C, H] = [1, 4, 4, 1];
    const rng = seeded('attention-mask');
    const qkv = randomF64(rng, B * T * 3 * C);
    const keyMask = Uint32Array.from([1, 0, 1, 1]);
    const base = attentionForward(qkv, keyMask, B, T, C, H);
    // Changing key/value 1 changes only output row 1 (its own diagonal), not rows 2 and 3.
    const moved = Float64Array.from(qkv);
    for (let d = C; d < 3 * C; d++) moved[1 * 3 * C + d] += 0.7;
    const after = attentionForward(moved, keyMask, B, T, C, H);
    for (let t = 0; t < T; t++) {
      const same = [0, 1, 2, 3].every((d) => after.out[t * C + d] === base.out[t * C + d]);
      expect(same).toBe(t !== 1);
    }
    // Query 0 sees only itself: out = v_0 and lse = its own scaled score.
    for (let d = 0; d < C; d++) expect(base.out[d]).toBeCloseTo(qkv[2 * C + d], 12);
    let s = 0;
    for (let d = 0; d < C; d++) s += qkv[d] * qkv[C + d];
    expect(base.lse[0]).toBeCloseTo(s / Math.sqrt(C), 12);
  });

  it('lse is the log-sum-exp of the scaled allowed scores', () => {
    const [B, T, C, H] = [1, 3, 8, 2];
    const rng = seeded('attention-lse');
    const qkv = randomF64(rng, B * T * 3 * C);
    const keyMask = Uint32Array.from([1, 1, 1]);
    const { lse } = attentionForward(qkv, keyMask, B, T, C, H);
    const hs = C / H;
    for (let h = 0; h < H; h++) {
      const t = 2;
      let sum = 0;
      for (let j = 0; j <= t; j++) {
        let dot = 0;
        for (let d = 0; d < hs; d++) dot += qkv[t * 3 * C + h * hs + d] * qkv[j * 3 * C + C + h * hs + d];
        sum += Math.exp(dot / Math.sqrt(hs));
      }
      expect(lse[h * T + t]).toBeCloseTo(Math.log(sum), 12);
    }
  });
});
