// Launcher for shaders/logprob.wgsl: log p(target) and entropy per row of logits, and their gradient.
// The SFT loss is mean(−logp) over target rows and the RL surrogate supplies ∂L/∂logp, so the kernel deals in
// gLogp and gEntropy only. Rows are every dimension but the last: logits (R, V) or (B, T, V).
import logprobWgsl from '../../shaders/logprob.wgsl?raw';
import { type KernelEncoder, type KernelSource, u32 } from '../gpu/context';
import { grid1d } from '../gpu/dispatch';
import { ShapeError } from '../gpu/errors';
import { expectDType, expectPositive, expectShape, shapeString, type Tensor } from '../gpu/tensor';
import { CPU_ROW_TUNING, ROWS_PER_WORKGROUP, type RowTuning, threadsPerRow } from './row-tuning';

/** targets value marking a padded row: logp = 0, entropy = 0, zero gradient (see shaders/logprob.wgsl). */
export { IGNORE_TARGET } from '../reference/logprob';

/** The vec4 entry point when rows start on vec4 boundaries (V % 4 = 0), the scalar one otherwise. */
function kernel(name: string, V: number, tuning: RowTuning): KernelSource {
  const vec4 = V % 4 === 0;
  const constants = { TPR: threadsPerRow(tuning, vec4 ? V / 4 : V), ROWS: ROWS_PER_WORKGROUP };
  const entryPoint = vec4 ? `${name}_vec4` : name;
  return { label: entryPoint, code: logprobWgsl, entryPoint, constants };
}

function rowsAndVocab(name: string, logits: Tensor, targets: Tensor, perRow: Tensor[]): [number, number] {
  if (logits.shape.length < 2) {
    throw new ShapeError(name, `${logits.name} has shape ${shapeString(logits.shape)}, expected (…, V)`);
  }
  const V = logits.shape[logits.shape.length - 1];
  const R = logits.size / Math.max(V, 1);
  expectPositive(name, { R, V });
  if (V < 2) throw new ShapeError(name, `V = ${V}: a distribution needs at least 2 tokens`);
  const rowShape = logits.shape.slice(0, -1);
  expectShape(name, targets, rowShape);
  expectDType(name, targets, 'u32');
  expectDType(name, logits, 'f32');
  for (const t of perRow) {
    expectShape(name, t, rowShape);
    expectDType(name, t, 'f32');
  }
  return [R, V];
}

/**
 * logp, entropy (R) from logits (R, V) and targets (R) u32; ignored rows get zeros.
 * `tuning` defaults to CPU_ROW_TUNING — pass rowTuningFor(ctx.info).
 */
export function logprobForward(
  enc: KernelEncoder,
  logp: Tensor,
  entropy: Tensor,
  logits: Tensor,
  targets: Tensor,
  tuning: RowTuning = CPU_ROW_TUNING,
): void {
  const name = 'logprob_forward';
  const [R, V] = rowsAndVocab(name, logits, targets, [logp, entropy]);
  enc.dispatch(
    kernel(name, V, tuning),
    [enc.params([u32(R), u32(V)]), logits, targets, logp, entropy],
    grid1d(Math.ceil(R / ROWS_PER_WORKGROUP), 1),
  );
}

/**
 * dlogits (R, V), overwritten: the gradient of Σ_r gLogp[r]·logp[r] + gEntropy[r]·entropy[r] with respect to
 * the logits. Ignored rows get zeros.
 */
export function logprobBackward(
  enc: KernelEncoder,
  dlogits: Tensor,
  logits: Tensor,
  targets: Tensor,
  gLogp: Tensor,
  gEntropy: Tensor,
  tuning: RowTuning = CPU_ROW_TUNING,
): void {
  const name = 'logprob_backward';
  const [R, V] = rowsAndVocab(name, logits, targets, [gLogp, gEntropy]);
  expectShape(name, dlogits, logits.shape);
  expectDType(name, dlogits, 'f32');
  enc.dispatch(
    kernel(name, V, tuning),
    [enc.params([u32(R), u32(V)]), logits, targets, dlogits, gLogp, gEntropy],
    grid1d(Math.ceil(R / ROWS_PER_WORKGROUP), 1),
  );
}
