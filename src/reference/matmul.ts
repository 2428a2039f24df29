// float64 reference for shaders/matmul.wgsl. Row-major; weights are (N,K) = (out,in) as in torch.nn.Linear.

/** out(M,N) = inp(M,K)·weight(N,K)ᵀ + bias(N). */
export function matmulForward(
  inp: Float64Array,
  weight: Float64Array,
  bias: Float64Array | null,
  M: number,
  K: number,
  N: number,
): Float64Array {
  const out = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = bias ? bias[n] : 0;
      for (let k = 0; k < K; k++) s += inp[m * K + k] * weight[n * K + k];
      out[m * N + n] = s;
    }
  }
  return out;
}

/** Gradients of matmulForward given dout(M,N): dinp = dout·W, dweight = doutᵀ·inp, dbias = Σ_m dout. */
export function matmulBackward(
  dout: Float64Array,
  inp: Float64Array,
  weight: Float64Array,
  M: number,
  K: number,
  N: number,
): { dinp: Float64Array; dweight: Float64Array; dbias: Float64Array } {
  const dinp = new Float64Array(M * K);
  const dweight = new Float64Array(N * K);
  const dbias = new Float64Array(N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      const d = dout[m * N + n];
      dbias[n] += d;
      for (let k = 0; k < K; k++) {
        dinp[m * K + k] += d * weight[n * K + k];
        dweight[n * K + k] += d * inp[m * K + k];
      }
    }
  }
  return { dinp, dweight, dbias };
}
