// How many threads share one row in the row-reduction kernels (layernorm, logprob).
// Workgroup barriers are dear on a CPU adapter (SwiftShader, as in tests and CI): measured there, a 32-thread
// tree reduction per row made layernorm forward ~20× slower than one thread per row with no barrier
// (1024×128: ~70–80 ms vs ~4 ms). A GPU wants a warp-sized group per row for coalesced loads and parallelism.
// The sum order is fixed for a given setting, so results stay bitwise deterministic per adapter.
import type { AdapterSummary } from '../gpu/device';

export interface RowTuning {
  /** Threads per row: a power of two, 1 (no barriers) to 32 (8 rows × 32 = 256, WebGPU's default cap). */
  readonly threadsPerRow: number;
}

export const CPU_ROW_TUNING: RowTuning = { threadsPerRow: 1 };
export const GPU_ROW_TUNING: RowTuning = { threadsPerRow: 32 };

/** Rows per workgroup in every row kernel; also the layernorm backward's chunk of rows. */
export const ROWS_PER_WORKGROUP = 8;

const CPU_ADAPTER = /swiftshader|llvmpipe|lavapipe|basic render/i;

/** The tuning for an adapter: one thread per row on CPU rasterisers, a warp-sized group elsewhere. */
export function rowTuningFor(adapter: AdapterSummary): RowTuning {
  const text = `${adapter.vendor} ${adapter.architecture} ${adapter.description} ${adapter.label}`;
  return CPU_ADAPTER.test(text) ? CPU_ROW_TUNING : GPU_ROW_TUNING;
}

/** Threads per row for rows of `width` items (vec4s or logits): no more than the row has. */
export function threadsPerRow(tuning: RowTuning, width: number): number {
  const t = tuning.threadsPerRow;
  if (!Number.isInteger(Math.log2(t)) || t < 1 || t > 32) {
    throw new Error(`row tuning: threadsPerRow must be a power of two in 1..32, got ${t}`);
  }
  let tpr = 1;
  while (tpr < t && tpr < width) tpr *= 2;
  return tpr;
}
