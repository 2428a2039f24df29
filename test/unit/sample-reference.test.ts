import { describe, expect, it } from 'vitest';
import { argmax, inverseCdf, sampleDistribution, sampleReference } from '../../src/reference/sample';

const logits = Float64Array.from([1, 3, 3, 0, -2]);

describe('reference sampler', () => {
  it('temperature 0 is argmax with the lowest index on ties', () => {
    expect(argmax(logits)).toBe(1);
    expect(sampleReference(logits, { temperature: 0, topK: 0, topP: 1 }, 0.99)).toBe(1);
  });

  it('softmax of logits/temperature when top-k and top-p are off', () => {
    const T = 0.5;
    const { probs } = sampleDistribution(logits, { temperature: T, topK: 0, topP: 1 });
    const e = [...logits].map((x) => Math.exp(x / T));
    const sum = e.reduce((a, b) => a + b);
    probs.forEach((p, i) => {
      expect(p).toBeCloseTo(e[i] / sum, 14);
    });
  });

  it('top-k keeps ties with the k-th largest', () => {
    const k1 = sampleDistribution(logits, { temperature: 1, topK: 1, topP: 1 });
    expect([...k1.kept]).toEqual([0, 1, 1, 0, 0]); // k = 1, but index 2 ties with the largest
    expect(k1.probs[1]).toBeCloseTo(0.5, 14);
    const k3 = sampleDistribution(logits, { temperature: 1, topK: 3, topP: 1 });
    expect([...k3.kept]).toEqual([1, 1, 1, 0, 0]);
    expect([...sampleDistribution(logits, { temperature: 1, topK: 5, topP: 1 }).kept]).toEqual([
      1, 1, 1, 1, 1,
    ]);
  });

  it('top-p keeps the smallest head whose mass reaches topP, with ties of the cut', () => {
    // p ∝ [e¹, e³, e³, 1, e⁻²]: the two tied maxima hold ~0.91 of the mass.
    const head = sampleDistribution(logits, { temperature: 1, topK: 0, topP: 0.5 });
    expect([...head.kept]).toEqual([0, 1, 1, 0, 0]); // the cut lands on a tie: both kept
    const more = sampleDistribution(logits, { temperature: 1, topK: 0, topP: 0.95 });
    expect([...more.kept]).toEqual([1, 1, 1, 0, 0]);
    expect(more.probs.reduce((a, b) => a + b)).toBeCloseTo(1, 14);
    expect([...sampleDistribution(logits, { temperature: 1, topK: 0, topP: 0 }).kept]).toEqual([
      0, 1, 1, 0, 0,
    ]);
  });

  it('inverse CDF walks kept tokens in index order', () => {
    const dist = sampleDistribution(Float64Array.from([0, 0, 0, 0]), { temperature: 1, topK: 0, topP: 1 });
    expect([0, 0.24, 0.25, 0.5, 0.74, 0.75, 0.999].map((u) => inverseCdf(dist, u))).toEqual([
      0, 0, 1, 2, 2, 3, 3,
    ]);
    const masked = sampleDistribution(Float64Array.from([0, -Infinity, 0, -Infinity]), {
      temperature: 1,
      topK: 0,
      topP: 1,
    });
    expect([0.1, 0.6].map((u) => inverseCdf(masked, u))).toEqual([0, 2]);
  });

  it('rejects bad input', () => {
    expect(() => sampleReference(new Float64Array(0), { temperature: 1, topK: 0, topP: 1 }, 0)).toThrow(
      /empty/,
    );
    expect(() => sampleReference(logits, { temperature: 1, topK: 0, topP: 1 }, 1)).toThrow(/u must/);
    expect(() => sampleReference(logits, { temperature: -1, topK: 0, topP: 1 }, 0.5)).toThrow(/temperature/);
  });
});
