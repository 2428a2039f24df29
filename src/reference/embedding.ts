// float64 reference for shaders/embedding.wgsl: token plus learned position embedding, and its gradient.

function checkIds(kind: string, ids: Uint32Array, limit: number): void {
  ids.forEach((id, n) => {
    if (id >= limit) throw new Error(`embedding: ${kind} ${id} at row ${n} is out of range (< ${limit})`);
  });
}

/** out[n] = wte[tokens[n]] + wpe[positions[n]]. */
export function embeddingForward(
  tokens: Uint32Array, // (N)
  positions: Uint32Array, // (N)
  wte: Float64Array, // (V,C)
  wpe: Float64Array, // (T,C)
  C: number,
): Float64Array {
  const N = tokens.length;
  if (positions.length !== N) throw new Error(`embedding: ${N} tokens but ${positions.length} positions`);
  checkIds('token', tokens, wte.length / C);
  checkIds('position', positions, wpe.length / C);
  const out = new Float64Array(N * C); // (N,C)
  for (let n = 0; n < N; n++) {
    const tok = tokens[n] * C;
    const pos = positions[n] * C;
    for (let c = 0; c < C; c++) out[n * C + c] = wte[tok + c] + wpe[pos + c];
  }
  return out;
}

/** dwte[v] = Σ rows with token v of dout; dwpe[t] = Σ rows at position t (fresh arrays, not accumulated). */
export function embeddingBackward(
  dout: Float64Array, // (N,C)
  tokens: Uint32Array, // (N)
  positions: Uint32Array, // (N)
  V: number,
  T: number,
  C: number,
): { dwte: Float64Array; dwpe: Float64Array } {
  checkIds('token', tokens, V);
  checkIds('position', positions, T);
  const dwte = new Float64Array(V * C); // (V,C)
  const dwpe = new Float64Array(T * C); // (T,C)
  for (let n = 0; n < tokens.length; n++) {
    for (let c = 0; c < C; c++) {
      dwte[tokens[n] * C + c] += dout[n * C + c];
      dwpe[positions[n] * C + c] += dout[n * C + c];
    }
  }
  return { dwte, dwpe };
}
