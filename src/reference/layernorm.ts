// float64 reference for shaders/layernorm.wgsl: LayerNorm over the last dimension, as GPT-2 (biased variance).
// R rows of C channels, flat row-major.

export function layernormForward(
  inp: Float64Array, // (R,C)
  weight: Float64Array, // (C)
  bias: Float64Array, // (C)
  R: number,
  C: number,
  eps = 1e-5,
): { out: Float64Array; mean: Float64Array; rstd: Float64Array } {
  const out = new Float64Array(R * C); // (R,C)
  const mean = new Float64Array(R); // (R)
  const rstd = new Float64Array(R); // (R)
  for (let r = 0; r < R; r++) {
    const x = inp.subarray(r * C, (r + 1) * C);
    let m = 0;
    for (let c = 0; c < C; c++) m += x[c];
    m /= C;
    let v = 0;
    for (let c = 0; c < C; c++) v += (x[c] - m) ** 2;
    const s = 1 / Math.sqrt(v / C + eps);
    for (let c = 0; c < C; c++) out[r * C + c] = (x[c] - m) * s * weight[c] + bias[c];
    mean[r] = m;
    rstd[r] = s;
  }
  return { out, mean, rstd };
}

/**
 * With n = (x − mean)·rstd and dn = dout·w:
 *   dinp = rstd · (dn − mean(dn) − n·mean(dn·n)),  dweight = Σ_rows dout·n,  dbias = Σ_rows dout.
 */
export function layernormBackward(
  dout: Float64Array, // (R,C)
  inp: Float64Array, // (R,C)
  weight: Float64Array, // (C)
  mean: Float64Array, // (R)
  rstd: Float64Array, // (R)
  R: number,
  C: number,
): { dinp: Float64Array; dweight: Float64Array; dbias: Float64Array } {
  const dinp = new Float64Array(R * C); // (R,C)
  const dweight = new Float64Array(C); // (C)
  const dbias = new Float64Array(C); // (C)
  for (let r = 0; r < R; r++) {
    const o = r * C;
    let dnMean = 0;
    let dnNormMean = 0;
    for (let c = 0; c < C; c++) {
      const n = (inp[o + c] - mean[r]) * rstd[r];
      const dn = dout[o + c] * weight[c];
      dnMean += dn;
      dnNormMean += dn * n;
      dweight[c] += dout[o + c] * n;
      dbias[c] += dout[o + c];
    }
    dnMean /= C;
    dnNormMean /= C;
    for (let c = 0; c < C; c++) {
      const n = (inp[o + c] - mean[r]) * rstd[r];
      const dn = dout[o + c] * weight[c];
      dinp[o + c] = rstd[r] * (dn - dnMean - n * dnNormMean);
    }
  }
  return { dinp, dweight, dbias };
}
