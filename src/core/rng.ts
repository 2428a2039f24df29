// The one source of randomness in the project. Every random choice (init, data order, sampling, corpus
// wording) comes from here, so a run is a pure function of its seed.
//
// Two flavours share one 32-bit mixing function:
// - `Rng`: a stateful stream (seed + counter), forkable by label for independent sub-streams.
// - `counterHash`: stateless, keyed by up to four u32 words — the GPU sampler uses the same function in WGSL
//   (shaders/sample.wgsl) so CPU and GPU draw identical numbers for (seed, step, sequence, position).

/** PCG-style 32-bit permutation (O'Neill's "RXS M XS" output on an LCG step). Bijective on u32. */
export function pcgHash(input: number): number {
  const state = (Math.imul(input >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** Stateless hash of up to four u32 words; mirrored bit-for-bit in WGSL. */
export function counterHash(a: number, b = 0, c = 0, d = 0): number {
  let h = pcgHash(a >>> 0);
  h = pcgHash((h ^ (b >>> 0)) >>> 0);
  h = pcgHash((h ^ (c >>> 0)) >>> 0);
  h = pcgHash((h ^ (d >>> 0)) >>> 0);
  return h;
}

/** u32 → float in [0, 1) with 24 bits of precision (exactly representable in float32, as on the GPU). */
export function u32ToUnit(x: number): number {
  return (x >>> 8) / 16777216;
}

function hashString(label: string): number {
  let h = 2166136261;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 16777619) >>> 0;
  return h >>> 0;
}

export class Rng {
  private counter = 0;
  private spareNormal: number | null = null;
  readonly seed: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new Error(`Rng seed must be an integer, got ${seed}`);
    this.seed = seed >>> 0;
  }

  /** An independent stream derived from this one's seed and a label; does not advance this stream. */
  fork(label: string | number): Rng {
    const key = typeof label === 'number' ? label >>> 0 : hashString(label);
    return new Rng(counterHash(this.seed, key, 0x9e3779b9));
  }

  nextU32(): number {
    const c = this.counter++;
    return counterHash(this.seed, c, c / 4294967296);
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    // 53-bit double from two draws, so float64 users get full precision.
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal (Box–Muller, caching the second value). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = this.uniform();
    while (u <= Number.MIN_VALUE) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new Error(`Rng.int needs a positive integer bound, got ${n}`);
    return Math.floor(this.uniform() * n);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick from an empty list');
    return items[this.int(items.length)];
  }

  /** Fisher–Yates shuffle of a copy. */
  shuffled<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = out[i];
      out[i] = out[j];
      out[j] = t;
    }
    return out;
  }

  /** Fill with N(0, std²) values. */
  fillNormal(target: Float32Array | Float64Array, std: number): void {
    for (let i = 0; i < target.length; i++) target[i] = this.normal() * std;
  }
}
