import { describe, expect, it } from 'vitest';
import type { AdapterSummary } from '../../src/gpu/device';
import { CPU_ROW_TUNING, GPU_ROW_TUNING, rowTuningFor, threadsPerRow } from '../../src/model/row-tuning';

const adapter = (vendor: string, architecture: string, description: string): AdapterSummary => ({
  vendor,
  architecture,
  description,
  label: `${vendor}/${architecture} (${description})`,
  hasTimestampQuery: false,
});

describe('row tuning', () => {
  it('gives CPU rasterisers one thread per row and GPUs a warp', () => {
    expect(rowTuningFor(adapter('google', 'swiftshader', 'SwiftShader driver 5.0.0'))).toBe(CPU_ROW_TUNING);
    expect(rowTuningFor(adapter('mesa', 'unknown', 'llvmpipe (LLVM 15.0.6, 256 bits)'))).toBe(CPU_ROW_TUNING);
    expect(rowTuningFor(adapter('nvidia', 'hopper', 'NVIDIA H100'))).toBe(GPU_ROW_TUNING);
    expect(rowTuningFor(adapter('apple', 'metal-3', ''))).toBe(GPU_ROW_TUNING);
  });

  it('never gives a row more threads than it has items, and rejects non-powers of two', () => {
    expect(threadsPerRow(GPU_ROW_TUNING, 5)).toBe(8);
    expect(threadsPerRow(GPU_ROW_TUNING, 1)).toBe(1);
    expect(threadsPerRow(GPU_ROW_TUNING, 1000)).toBe(32);
    expect(threadsPerRow(CPU_ROW_TUNING, 1000)).toBe(1);
    expect(() => threadsPerRow({ threadsPerRow: 6 }, 100)).toThrow(/power of two/);
    expect(() => threadsPerRow({ threadsPerRow: 64 }, 100)).toThrow(/1\.\.32/);
  });
});
