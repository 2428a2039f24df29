// Launcher for shaders/logprob.wgsl: log p(target) and entropy per row of logits, and their gradient.
// The SFT loss is mean(−logp) over target rows and the RL surrogate supplies ∂L/∂logp, so the kernel deals in
// gLogp and gEntropy only. Rows are every dimension but the last: logits (R, V) or (B, T, V).
import logprobWgsl from '../../shaders/logprob.wgsl?raw';
import { type KernelEncoder, type KernelSource, u32 } from '../gpu/context';
import { grid1d } from '../gpu/dispatch';
import { ShapeError } from '../gpu/errors';
import { expectDType, expectPositive, expectShape, shapeString, type Tensor } from '../gpu/tensor';

/** targets value marking a padded row: logp = 0, entropy = 0, zero gradient (see shaders/logprob.wgsl). */
export { IGNORE_TARGET } from '../reference/logprob';

/** Threads per row: about four logits each, between 32 and 256 (a power of two for the tree reduction). */
function threadsPerRow(V: number): number {
  let wg = 32;
  while (wg * 4 < V && wg < 256) wg *= 2;
  return wg;
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

/** logp, entropy (R) from logits (R, V) and targets (R) u32; ignored rows get zeros. */
export function logprobForward(
  enc: KernelEncoder,
  logp: Tensor,
  entropy: Tensor,
  logits: Tensor,
  targets: Tensor,
): void {
  const name = 'logprob_forward';
  const [R, V] = rowsAndVocab(name, logits, targets, [logp, entropy]);
  const source: KernelSource = {
    label: name,
    code: logprobWgsl,
    entryPoint: name,
    constants: { WG: threadsPerRow(V) },
  };
  enc.dispatch(source, [enc.params([u32(R), u32(V)]), logits, targets, logp, entropy], grid1d(R, 1));
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
): void {
  const name = 'logprob_backward';
  const [R, V] = rowsAndVocab(name, logits, targets, [gLogp, gEntropy]);
  expectShape(name, dlogits, logits.shape);
  expectDType(name, dlogits, 'f32');
  const source: KernelSource = {
    label: name,
    code: logprobWgsl,
    entryPoint: name,
    constants: { WG: threadsPerRow(V) },
  };
  enc.dispatch(
    source,
    [enc.params([u32(R), u32(V)]), logits, targets, dlogits, gLogp, gEntropy],
    grid1d(R, 1),
  );
}
