// float64 reference for shaders/gelu.wgsl.
const S = Math.sqrt(2 / Math.PI);

export function geluForward(inp: Float64Array): Float64Array {
  const out = new Float64Array(inp.length);
  for (let i = 0; i < inp.length; i++) {
    const x = inp[i];
    out[i] = 0.5 * x * (1 + Math.tanh(S * (x + 0.044715 * x * x * x)));
  }
  return out;
}

export function geluBackward(inp: Float64Array, dout: Float64Array): Float64Array {
  const dinp = new Float64Array(inp.length);
  for (let i = 0; i < inp.length; i++) {
    const x = inp[i];
    const t = Math.tanh(S * (x + 0.044715 * x * x * x));
    const dt = S * (1 + 3 * 0.044715 * x * x);
    dinp[i] = dout[i] * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * dt);
  }
  return dinp;
}
