// Launcher for shaders/layernorm.wgsl. Tensors may be (R,C) or (B,T,C): R is every dimension but the last.
import layernormWgsl from '../../shaders/layernorm.wgsl?raw';
import { f32, type KernelEncoder, type KernelSource, u32 } from '../gpu/context';
import { grid1d } from '../gpu/dispatch';
import { ShapeError } from '../gpu/errors';
import { expectDType, expectPositive, expectShape, shapeString, type Tensor } from '../gpu/tensor';

/** Rows per backward chunk: the number of weight/bias partials is ceil(R / ROWS_PER_CHUNK). */
const ROWS_PER_CHUNK = 16;
const PARAM_GRADS_WG = 64;

/** Threads per row: enough for one vec4 each up to 64 (a power of two for the tree reduction). */
function threadsPerRow(C4: number): number {
  let wg = 4;
  while (wg < C4 && wg < 64) wg *= 2;
  return wg;
}

function kernel(entryPoint: string, constants: Record<string, number>): KernelSource {
  return { label: entryPoint, code: layernormWgsl, entryPoint, constants };
}

/** R and C of an activation (…, C) with C a multiple of 4; checks the per-row and per-channel tensors. */
function rowsAndWidth(name: string, x: Tensor, perChannel: Tensor[], perRow: Tensor[]): [number, number] {
  if (x.shape.length < 2) {
    throw new ShapeError(name, `${x.name} has shape ${shapeString(x.shape)}, expected (…, C) with rows`);
  }
  const C = x.shape[x.shape.length - 1];
  const R = x.size / Math.max(C, 1);
  expectPositive(name, { R, C });
  if (C % 4 !== 0) throw new ShapeError(name, `C = ${C} must be a multiple of 4 (vec4 kernel)`);
  for (const t of perChannel) expectShape(name, t, [C]);
  for (const t of perRow) {
    if (t.size !== R || (t.shape.length !== 1 && t.shape.join() !== x.shape.slice(0, -1).join())) {
      throw new ShapeError(
        name,
        `${t.name} has shape ${shapeString(t.shape)}, expected [${R}] (one per row)`,
      );
    }
  }
  for (const t of [x, ...perChannel, ...perRow]) expectDType(name, t, 'f32');
  return [R, C];
}

/** Shape of the scratch tensor `layernormBackward` needs for rows of width C: (P, 2, C) partial sums. */
export function layernormScratchShape(R: number, C: number): [number, number, number] {
  return [Math.ceil(R / ROWS_PER_CHUNK), 2, C];
}

/**
 * out = (inp − mean)·rstd·weight + bias per row; also writes mean and rstd (R) for the backward pass.
 * inp, out (…, C); weight, bias (C); mean, rstd (R) or (B, T).
 */
export function layernormForward(
  enc: KernelEncoder,
  out: Tensor,
  mean: Tensor,
  rstd: Tensor,
  inp: Tensor,
  weight: Tensor,
  bias: Tensor,
  eps = 1e-5,
): void {
  const name = 'layernorm_forward';
  const [R, C] = rowsAndWidth(name, inp, [weight, bias], [mean, rstd]);
  expectShape(name, out, inp.shape);
  const WG = threadsPerRow(C / 4);
  enc.dispatch(
    kernel(name, { WG }),
    [enc.params([u32(R), u32(C / 4), f32(eps)]), out, mean, rstd, inp, weight, bias],
    grid1d(R, 1),
  );
}

/**
 * Gradients of layernormForward. dinp (…, C) is overwritten, or added to when `accumulate` (in a pre-LN block
 * the layernorm input is the residual stream, whose gradient already holds the skip path); dweight and dbias
 * (C) are overwritten. `scratch` has layernormScratchShape(R, C).
 */
export function layernormBackward(
  enc: KernelEncoder,
  dinp: Tensor,
  dweight: Tensor,
  dbias: Tensor,
  scratch: Tensor,
  dout: Tensor,
  inp: Tensor,
  weight: Tensor,
  mean: Tensor,
  rstd: Tensor,
  options: { readonly accumulate?: boolean } = {},
): void {
  const name = 'layernorm_backward';
  const [R, C] = rowsAndWidth(name, inp, [weight, dweight, dbias], [mean, rstd]);
  expectShape(name, dinp, inp.shape);
  expectShape(name, dout, inp.shape);
  const scratchShape = layernormScratchShape(R, C);
  expectShape(name, scratch, scratchShape);
  expectDType(name, scratch, 'f32');
  const chunks = scratchShape[0];
  const WG = threadsPerRow(C / 4);
  const params = enc.params([u32(R), u32(C / 4), f32(0), u32(options.accumulate ? 1 : 0), u32(chunks)]);
  enc.dispatch(
    kernel(name, { WG, RPC: ROWS_PER_CHUNK }),
    [params, dinp, scratch, dout, inp, weight, mean, rstd],
    grid1d(chunks, 1),
  );
  enc.dispatch(
    kernel('layernorm_param_grads', { WG: PARAM_GRADS_WG }),
    [params, dweight, dbias, scratch],
    [Math.ceil(C / 4 / PARAM_GRADS_WG)],
  );
}
