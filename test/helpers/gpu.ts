// Shared GPU test setup. There is no skip: without an adapter every GPU test fails with the reason
// (CI sets REQUIRE_WEBGPU=1; the suite needs an adapter either way).
import { GpuContext } from '../../src/gpu/context';
import type { Tensor } from '../../src/gpu/tensor';

let shared: Promise<GpuContext> | null = null;

export function gpuContext(): Promise<GpuContext> {
  shared ??= GpuContext.create().catch((e: unknown) => {
    throw new Error(
      `No WebGPU adapter (REQUIRE_WEBGPU=${process.env.REQUIRE_WEBGPU ?? 'unset'}): ${String(e)}. ` +
        'Run scripts/setup-webgpu.sh to install the SwiftShader driver.',
    );
  });
  return shared;
}

/** Reads a float tensor back as float64 for comparison with the reference. */
export async function readF64(ctx: GpuContext, t: Tensor): Promise<Float64Array> {
  const data = await ctx.read(t);
  return Float64Array.from(data);
}
