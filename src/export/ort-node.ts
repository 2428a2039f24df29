// Running an exported model under onnxruntime-web's wasm backend in Node (the check in test/gpu/onnx.test.ts
// and the baseline of bench:onnx). Node-only: it points the runtime at the .wasm files in node_modules.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-web';
import { IO } from './onnx';

let configured = false;

function configure(): void {
  if (configured) return;
  // The runtime's .mjs/.wasm pairs ship in the package's dist/, beside its Node entry point.
  const dist = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
  ort.env.wasm.wasmPaths = `${pathToFileURL(dist).href}/`;
  // One thread: no worker pool to start or leave behind, and timings that do not depend on the other engineers
  // sharing these two cores.
  ort.env.wasm.numThreads = 1;
  configured = true;
}

export type OrtSession = ort.InferenceSession;

export async function openOrtSession(model: Uint8Array): Promise<OrtSession> {
  configure();
  return ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
}

export interface OrtBatch {
  readonly B: number;
  readonly T: number;
  readonly tokens: ArrayLike<number>; // (B,T)
  /** Positions (B,T); 0..T−1 in every row when omitted, as GpuGpt uses. */
  readonly positions?: ArrayLike<number>;
  readonly keyMask: ArrayLike<number>; // (B,T)
}

function int64(values: ArrayLike<number>, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(Array.from(values, (v) => BigInt(v))), dims);
}

/** Logits (B,T,V) of one batch. */
export async function runOrt(session: OrtSession, batch: OrtBatch): Promise<Float32Array> {
  const { B, T } = batch;
  const positions = batch.positions ?? Array.from({ length: B * T }, (_, i) => i % T);
  const out = await session.run({
    [IO.inputIds]: int64(batch.tokens, [B, T]),
    [IO.positionIds]: int64(positions, [B, T]),
    [IO.attentionMask]: int64(batch.keyMask, [B, T]),
  });
  const logits = out[IO.logits];
  if (!logits || !(logits.data instanceof Float32Array))
    throw new Error('ONNX run: no float32 logits output');
  return logits.data;
}
