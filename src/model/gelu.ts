// Launcher for shaders/gelu.wgsl.
import geluWgsl from '../../shaders/gelu.wgsl?raw';
import { type KernelEncoder, type KernelSource, u32 } from '../gpu/context';
import { grid1d } from '../gpu/dispatch';
import { ShapeError } from '../gpu/errors';
import { expectPositive, type Tensor } from '../gpu/tensor';

const WG = 256;
const forwardKernel: KernelSource = { label: 'gelu_forward', code: geluWgsl, entryPoint: 'gelu_forward' };
const backwardKernel: KernelSource = { label: 'gelu_backward', code: geluWgsl, entryPoint: 'gelu_backward' };

function checkSizes(kernel: string, ...tensors: Tensor[]): number {
  const n = tensors[0].size;
  expectPositive(kernel, { elements: n });
  for (const t of tensors) {
    if (t.size !== n) throw new ShapeError(kernel, `${t.name} has ${t.size} elements, expected ${n}`);
  }
  if (n % 4 !== 0) throw new ShapeError(kernel, `element count ${n} must be a multiple of 4 (vec4 kernel)`);
  return n / 4;
}

/** out = gelu(inp), elementwise. */
export function geluForward(enc: KernelEncoder, out: Tensor, inp: Tensor): void {
  const n4 = checkSizes('gelu_forward', inp, out);
  enc.dispatch(forwardKernel, [enc.params([u32(n4)]), inp, out], grid1d(n4, WG));
}

/** dinp = dout · gelu'(inp). */
export function geluBackward(enc: KernelEncoder, dinp: Tensor, inp: Tensor, dout: Tensor): void {
  const n4 = checkSizes('gelu_backward', inp, dinp, dout);
  enc.dispatch(backwardKernel, [enc.params([u32(n4)]), inp, dinp, dout], grid1d(n4, WG));
}
