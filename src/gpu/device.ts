// Device acquisition: the browser's `navigator.gpu`, or Dawn through the npm package `webgpu` in Node.
// After `requestAdapter` both paths are the same code.
import type { GpuFailure } from './errors';

export type Acquired =
  | {
      readonly ok: true;
      readonly adapter: GPUAdapter;
      readonly device: GPUDevice;
      readonly info: AdapterSummary;
    }
  | { readonly ok: false; readonly error: GpuFailure };

export interface AdapterSummary {
  readonly vendor: string;
  readonly architecture: string;
  readonly description: string;
  /** One line a person can read, and the key under which per-adapter kernel choices are stored. */
  readonly label: string;
  readonly hasTimestampQuery: boolean;
}

export interface AcquireOptions {
  readonly powerPreference?: GPUPowerPreference;
  /** Ask for `timestamp-query` when the adapter has it (profiling). */
  readonly timestamps?: boolean;
}

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

function isNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';
}

let nodeGpu: GPU | null = null;

async function nodeNavigatorGpu(): Promise<GPU> {
  if (nodeGpu) return nodeGpu;
  // Without a GPU, the Vulkan loader is pointed at the SwiftShader driver Debian's chromium ships. The loader
  // reads the variable when Dawn creates its instance, so setting it here, before `create`, is enough.
  // Module names in variables keep the browser bundle from trying to resolve Node built-ins.
  const [fsName, osName, dawnName] = ['node:fs', 'node:os', 'webgpu'];
  const fs = (await import(/* @vite-ignore */ fsName)) as typeof import('node:fs');
  if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES && fs.existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  if (!process.env.XDG_RUNTIME_DIR) {
    process.env.XDG_RUNTIME_DIR = (
      (await import(/* @vite-ignore */ osName)) as typeof import('node:os')
    ).tmpdir();
  }
  const dawn = (await import(/* @vite-ignore */ dawnName)) as {
    create: (flags: string[]) => GPU;
    globals: Record<string, unknown>;
  };
  Object.assign(globalThis, dawn.globals);
  nodeGpu = dawn.create([]);
  return nodeGpu;
}

export function summarizeAdapter(adapter: GPUAdapter): AdapterSummary {
  const info = adapter.info;
  const vendor = info?.vendor || 'unknown';
  const architecture = info?.architecture || 'unknown';
  const description = info?.description || info?.device || '';
  return {
    vendor,
    architecture,
    description,
    label: `${vendor}/${architecture}${description ? ` (${description})` : ''}`,
    hasTimestampQuery: adapter.features.has('timestamp-query'),
  };
}

export async function acquireDevice(options: AcquireOptions = {}): Promise<Acquired> {
  let gpu: GPU | undefined;
  if (typeof navigator !== 'undefined' && 'gpu' in navigator && navigator.gpu) gpu = navigator.gpu;
  else if (isNode()) {
    try {
      gpu = await nodeNavigatorGpu();
    } catch (e) {
      return {
        ok: false,
        error: { kind: 'no-webgpu', message: `Could not load Dawn (npm package "webgpu"): ${String(e)}` },
      };
    }
  }
  if (!gpu) {
    return {
      ok: false,
      error: { kind: 'no-webgpu', message: 'This browser does not expose navigator.gpu.' },
    };
  }
  const adapter = await gpu.requestAdapter({
    powerPreference: options.powerPreference ?? 'high-performance',
  });
  if (!adapter) {
    return {
      ok: false,
      error: {
        kind: 'no-adapter',
        message:
          'WebGPU is available but no adapter was found. Without a GPU, install Debian\'s "chromium" (its ' +
          'SwiftShader Vulkan driver) and "libvulkan1", or set VK_ICD_FILENAMES.',
      },
    };
  }
  const info = summarizeAdapter(adapter);
  // Ask for the adapter's own limits: the default of 8 storage buffers per stage is too few for backward kernels.
  const requiredLimits: Record<string, number> = {
    maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    maxBufferSize: adapter.limits.maxBufferSize,
    maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: adapter.limits.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupsPerDimension: adapter.limits.maxComputeWorkgroupsPerDimension,
  };
  const requiredFeatures: GPUFeatureName[] = [];
  if (options.timestamps && info.hasTimestampQuery) requiredFeatures.push('timestamp-query');
  try {
    const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
    return { ok: true, adapter, device, info };
  } catch (e) {
    return { ok: false, error: { kind: 'no-adapter', message: `requestDevice failed: ${String(e)}` } };
  }
}
