// The tfjs baseline for the matmul benchmark: tf.matMul throughput on the active tfjs backend, in the same
// run (and on the same adapter) as our WGSL kernels.
import { Rng } from '../core/rng';
import { readAfter, selectTfjsBackend, type TfjsBackendName, tf } from './tfjs-setup';

/** out (M,N) = a (M,K) · bᵀ with b (N,K) when transposeB, as our linear layers multiply; else b is (K,N). */
export interface MatmulShape {
  readonly M: number;
  readonly K: number;
  readonly N: number;
  readonly transposeB?: boolean;
}

export interface MatmulResult extends MatmulShape {
  readonly backend: string;
  readonly gflops: number;
  readonly msPerCall: number;
  readonly calls: number;
}

/** Square shapes n×n·n×n, the classic GFLOP/s table. */
export const squareShapes = (sizes: readonly number[]): MatmulShape[] =>
  sizes.map((n) => ({ M: n, K: n, N: n }));

/**
 * GFLOP/s (2·M·K·N per call) of tf.matMul for each shape: one untimed call (compilation), one to estimate
 * the call time, then as many calls as fit in `budgetMs`, enqueued back to back and timed to the last result.
 */
export async function benchTfjsMatmul(
  backend: TfjsBackendName,
  shapes: readonly MatmulShape[],
  budgetMs = 1000,
  seed = 1,
): Promise<MatmulResult[]> {
  const used = await selectTfjsBackend(backend);
  const rng = new Rng(seed).fork('tfjs-matmul');
  const results: MatmulResult[] = [];
  for (const shape of shapes) {
    const { M, K, N } = shape;
    const transposeB = shape.transposeB ?? false;
    const aData = Float32Array.from({ length: M * K }, () => rng.normal());
    const bData = Float32Array.from({ length: K * N }, () => rng.normal());
    const a = tf.tensor2d(aData, [M, K]);
    const b = tf.tensor2d(bData, transposeB ? [N, K] : [K, N]);
    const run = async (calls: number, expectedMs: number): Promise<number> => {
      const started = performance.now();
      const outs: tf.Tensor[] = [];
      for (let i = 0; i < calls; i++) outs.push(tf.matMul(a, b, false, transposeB));
      await readAfter(outs[outs.length - 1], 0.8 * expectedMs - (performance.now() - started));
      for (const o of outs) o.dispose();
      return performance.now() - started;
    };
    try {
      await run(1, 0);
      const estimate = await run(1, 0);
      const calls = Math.max(1, Math.min(200, Math.floor(budgetMs / Math.max(estimate, 0.01))));
      const ms = await run(calls, calls * estimate);
      const msPerCall = ms / calls;
      results.push({
        ...shape,
        backend: used.label,
        gflops: (2 * M * K * N) / (msPerCall * 1e6),
        msPerCall,
        calls,
      });
    } finally {
      a.dispose();
      b.dispose();
    }
  }
  return results;
}
