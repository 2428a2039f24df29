// Launcher for shaders/residual.wgsl: the residual stream's x + f(x), forward and gradient accumulation.
import residualWgsl from '../../shaders/residual.wgsl?raw';
import { type KernelEncoder, type KernelSource, u32 } from '../gpu/context';
import { grid1d } from '../gpu/dispatch';
import { ShapeError } from '../gpu/errors';
import { expectDType, expectPositive, shapeString, type Tensor } from '../gpu/tensor';

const WG = 256;
const forwardKernel: KernelSource = { label: 'add_forward', code: residualWgsl, entryPoint: 'add_forward' };
const inPlaceKernel: KernelSource = { label: 'add_in_place', code: residualWgsl, entryPoint: 'add_in_place' };

/** Same shape everywhere (not just the same element count: a transposed operand is a caller bug). */
function checkSame(kernel: string, first: Tensor, ...rest: Tensor[]): number {
  for (const t of [first, ...rest]) expectDType(kernel, t, 'f32');
  expectPositive(kernel, { elements: first.size });
  for (const t of rest) {
    const same = t.shape.length === first.shape.length && t.shape.every((d, i) => d === first.shape[i]);
    if (!same) {
      throw new ShapeError(
        kernel,
        `${t.name} has shape ${shapeString(t.shape)}, expected ${shapeString(first.shape)} like ${first.name}`,
      );
    }
  }
  if (first.size % 4 !== 0) {
    throw new ShapeError(kernel, `element count ${first.size} must be a multiple of 4 (vec4 kernel)`);
  }
  return first.size / 4;
}

/** out = a + b, elementwise; all three (B,T,C) or any equal shape. */
export function addForward(enc: KernelEncoder, out: Tensor, a: Tensor, b: Tensor): void {
  const n4 = checkSame('add_forward', out, a, b);
  enc.dispatch(forwardKernel, [enc.params([u32(n4)]), out, b, a], grid1d(n4, WG));
}

/** acc += b, elementwise (gradient accumulation into the residual stream). */
export function addInPlace(enc: KernelEncoder, acc: Tensor, b: Tensor): void {
  const n4 = checkSame('add_in_place', acc, b);
  enc.dispatch(inPlaceKernel, [enc.params([u32(n4)]), acc, b], grid1d(n4, WG));
}
