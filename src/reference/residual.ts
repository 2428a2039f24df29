// float64 reference for shaders/residual.wgsl.

/** out = a + b. */
export function addForward(a: Float64Array, b: Float64Array): Float64Array {
  if (a.length !== b.length) throw new Error(`addForward: ${a.length} vs ${b.length} elements`);
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
  return out;
}

/** Addition passes the gradient through unchanged to both operands. */
export function addBackward(dout: Float64Array): { da: Float64Array; db: Float64Array } {
  return { da: Float64Array.from(dout), db: Float64Array.from(dout) };
}
