// The tfjs baselines on their own: one full training step of the reference config and tf.matMul GFLOP/s,
// on tfjs-webgpu and tfjs-cpu. `bench:engine` prints the same numbers next to ours.
//   node scripts/run.mjs --bundle @tensorflow/ src/cli/bench-tfjs.ts -- [--backends webgpu,cpu] [--steps 2]
//     [--warmup 2] [--batch 8] [--sizes 128,256,512] [--no-train] [--no-matmul] [--no-check] [--json]
import { parseArgs } from 'node:util';
import { benchTfjsTraining, checkTfjsAgainstReference, type TfjsTrainResult } from '../bench/tfjs-gpt';
import { benchTfjsMatmul, type MatmulResult, type MatmulShape, squareShapes } from '../bench/tfjs-matmul';
import type { TfjsBackendName } from '../bench/tfjs-setup';
import { BENCH_MODEL } from '../core/model-config';

const { values } = parseArgs({
  options: {
    backends: { type: 'string', default: 'webgpu,cpu' },
    steps: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '2' },
    batch: { type: 'string', default: '8' },
    sizes: { type: 'string', default: '128,256,512' },
    'no-train': { type: 'boolean', default: false },
    'no-matmul': { type: 'boolean', default: false },
    'no-check': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});

const backends = values.backends.split(',').map((b) => {
  if (b !== 'webgpu' && b !== 'cpu') throw new Error(`--backends: unknown backend "${b}" (webgpu, cpu)`);
  return b as TfjsBackendName;
});
const B = Number(values.batch);
const C = BENCH_MODEL.width;
const R = B * BENCH_MODEL.contextLength;
// Square sizes, then the training step's own shapes (rows R = B·T against the qkv and MLP weights).
const shapes: MatmulShape[] = [
  ...squareShapes(values.sizes.split(',').map(Number)),
  { M: R, K: C, N: 3 * C, transposeB: true },
  { M: R, K: C, N: 4 * C, transposeB: true },
];

const train: TfjsTrainResult[] = [];
const matmul: MatmulResult[] = [];
const checks: Array<{ backend: TfjsBackendName; tfjs: number; reference: number; relError: number }> = [];
for (const backend of backends) {
  if (!values['no-check']) {
    const check = await checkTfjsAgainstReference(backend, BENCH_MODEL);
    // float32 against float64 over two blocks: agreement to ~1e-5 says it is the same function.
    if (!(check.relError < 1e-4)) {
      throw new Error(
        `tfjs-${backend} GPT disagrees with the reference: ${check.tfjs} vs ${check.reference}`,
      );
    }
    checks.push({ backend, ...check });
  }
  if (!values['no-train']) {
    train.push(
      await benchTfjsTraining(backend, {
        config: BENCH_MODEL,
        batchSize: B,
        warmupSteps: Number(values.warmup),
        timedSteps: Number(values.steps),
        seed: 1,
      }),
    );
  }
  if (!values['no-matmul']) matmul.push(...(await benchTfjsMatmul(backend, shapes)));
}

const mib = (bytes: number | null) => (bytes === null ? '—' : `${(bytes / 2 ** 20).toFixed(1)} MiB`);
if (values.json) {
  console.log(JSON.stringify({ model: BENCH_MODEL, batchSize: B, checks, train, matmul }, null, 2));
} else {
  const { layers, width, heads, contextLength, vocabSize } = BENCH_MODEL;
  for (const c of checks) {
    console.log(
      `tfjs-${c.backend} GPT vs float64 reference (same weights, masked batch): loss ${c.tfjs.toFixed(6)} vs ` +
        `${c.reference.toFixed(6)}, rel. error ${c.relError.toExponential(1)}`,
    );
  }
  console.log(`training step: L=${layers} C=${width} H=${heads} T=${contextLength} V=${vocabSize}, B=${B}`);
  for (const r of train) {
    console.log(
      `  ${r.backend.padEnd(48)} ${r.tokensPerSecond.toFixed(1).padStart(8)} tokens/s  ` +
        `${r.msPerStep.toFixed(0).padStart(6)} ms/step  peak tensors ${mib(r.peakTensorBytes)}  ` +
        `GPU pool ${mib(r.gpuAllocatedBytes)}  loss ${r.finalLoss.toFixed(3)}`,
    );
  }
  if (train.length === 2) {
    console.log(
      `  tfjs-webgpu / tfjs-cpu: ${(train[0].tokensPerSecond / train[1].tokensPerSecond).toFixed(2)}×`,
    );
  }
  console.log('tf.matMul:');
  for (const r of matmul) {
    const shape = `${r.M}×${r.K} · ${r.transposeB ? `(${r.N}×${r.K})ᵀ` : `${r.K}×${r.N}`}`;
    console.log(
      `  ${r.backend.padEnd(48)} ${shape.padEnd(22)} ${r.gflops.toFixed(2).padStart(8)} GFLOP/s ` +
        `(${r.msPerCall.toFixed(2)} ms × ${r.calls})`,
    );
  }
}
// Dawn keeps the event loop alive; the numbers are out.
process.exit(0);
