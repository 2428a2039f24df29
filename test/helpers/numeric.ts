// Comparison and random-input helpers shared by reference and GPU tests.
import { Rng } from '../../src/core/rng';

/** ‖actual − expected‖∞ / max(‖expected‖∞, tiny): the relative error the issue bounds (1e-4 for float32). */
export function maxRelError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) {
    throw new Error(`length mismatch: ${actual.length} vs ${expected.length}`);
  }
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= maxDiff)) maxDiff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  return maxDiff / Math.max(maxRef, 1e-30);
}

export function randomF64(rng: Rng, n: number, scale = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal() * scale;
  return out;
}

/** float64 → float32 and back, so the reference sees exactly the values the GPU sees. */
export function roundF32(x: Float64Array): Float64Array {
  return Float64Array.from(Float32Array.from(x));
}

export function seeded(label: string): Rng {
  return new Rng(20261121).fork(label);
}

/**
 * Central finite difference of a scalar function at every coordinate of `x` listed in `indices`
 * (all when omitted). `x` is restored afterwards.
 */
export function finiteDifference(
  f: () => number,
  x: Float64Array,
  eps = 1e-6,
  indices: readonly number[] = [...x.keys()],
): Map<number, number> {
  const out = new Map<number, number>();
  for (const i of indices) {
    const saved = x[i];
    x[i] = saved + eps;
    const plus = f();
    x[i] = saved - eps;
    const minus = f();
    x[i] = saved;
    out.set(i, (plus - minus) / (2 * eps));
  }
  return out;
}
