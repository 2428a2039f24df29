// float64 reference for shaders/attention.wgsl: causal multi-head self-attention with a per-token key mask.
//   qkv row (b, t) = [q (C) | k (C) | v (C)]; head h uses columns h·hs .. (h+1)·hs of each part, hs = C/H.
//   Query t of sequence b attends key j iff j ≤ t && (keyMask[b·T + j] ≠ 0 || j = t): masked keys are padding
//   or hidden tool-result tokens; the diagonal is always allowed so no softmax row is empty.
//   s_tj = q_t·k_j / √hs, P = softmax_j(s), out_t = Σ_j P_tj v_j, lse_t = log Σ_j exp(s_tj) (kept for backward).

function allowed(keyMask: Uint32Array, b: number, T: number, t: number, j: number): boolean {
  return j <= t && (keyMask[b * T + j] !== 0 || j === t);
}

function checkDims(
  qkv: Float64Array,
  keyMask: Uint32Array,
  B: number,
  T: number,
  C: number,
  H: number,
): void {
  if (C % H !== 0) throw new Error(`attention reference: C=${C} is not divisible by H=${H}`);
  if (qkv.length !== B * T * 3 * C) throw new Error(`attention reference: qkv has ${qkv.length} values`);
  if (keyMask.length !== B * T) throw new Error(`attention reference: keyMask has ${keyMask.length} values`);
}

/** Scaled scores of query t of (b, h) against every key; disallowed keys are -Infinity. (T) */
function scores(
  qkv: Float64Array,
  keyMask: Uint32Array,
  b: number,
  h: number,
  t: number,
  T: number,
  C: number,
  H: number,
): Float64Array {
  const hs = C / H;
  const scale = 1 / Math.sqrt(hs);
  const s = new Float64Array(T).fill(Number.NEGATIVE_INFINITY);
  const q = (b * T + t) * 3 * C + h * hs;
  for (let j = 0; j <= t; j++) {
    if (!allowed(keyMask, b, T, t, j)) continue;
    const k = (b * T + j) * 3 * C + C + h * hs;
    let dot = 0;
    for (let d = 0; d < hs; d++) dot += qkv[q + d] * qkv[k + d];
    s[j] = dot * scale;
  }
  return s;
}

/** Softmax probabilities of one query row and the row's log-sum-exp. */
function softmaxRow(s: Float64Array): { p: Float64Array; lse: number } {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of s) max = Math.max(max, v);
  let sum = 0;
  for (const v of s) sum += Math.exp(v - max);
  const p = s.map((v) => Math.exp(v - max) / sum);
  return { p, lse: max + Math.log(sum) };
}

export function attentionForward(
  qkv: Float64Array /* (B,T,3C) */,
  keyMask: Uint32Array /* (B,T) */,
  B: number,
  T: number,
  C: number,
  H: number,
): { out: Float64Array /* (B,T,C) */; lse: Float64Array /* (B,H,T) */ } {
  checkDims(qkv, keyMask, B, T, C, H);
  const hs = C / H;
  const out = new Float64Array(B * T * C);
  const lse = new Float64Array(B * H * T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const row = softmaxRow(scores(qkv, keyMask, b, h, t, T, C, H));
        lse[(b * H + h) * T + t] = row.lse;
        const o = (b * T + t) * C + h * hs;
        for (let j = 0; j <= t; j++) {
          if (row.p[j] === 0) continue;
          const v = (b * T + j) * 3 * C + 2 * C + h * hs;
          for (let d = 0; d < hs; d++) out[o + d] += row.p[j] * qkv[v + d];
        }
      }
    }
  }
  return { out, lse };
}

/**
 * Gradient of Σ dout·out with respect to qkv. With P the softmax, dP_tj = dout_t·v_j, D_t = Σ_j P_tj dP_tj,
 * dS = P ⊙ (dP − D): dq_t = Σ_j dS_tj k_j / √hs, dk_j = Σ_t dS_tj q_t / √hs, dv_j = Σ_t P_tj dout_t.
 */
export function attentionBackward(
  dout: Float64Array /* (B,T,C) */,
  qkv: Float64Array /* (B,T,3C) */,
  keyMask: Uint32Array /* (B,T) */,
  B: number,
  T: number,
  C: number,
  H: number,
): Float64Array /* dqkv (B,T,3C) */ {
  checkDims(qkv, keyMask, B, T, C, H);
  if (dout.length !== B * T * C) throw new Error(`attention reference: dout has ${dout.length} values`);
  const hs = C / H;
  const scale = 1 / Math.sqrt(hs);
  const dqkv = new Float64Array(B * T * 3 * C);
  const dp = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const { p } = softmaxRow(scores(qkv, keyMask, b, h, t, T, C, H));
        const o = (b * T + t) * C + h * hs;
        const q = (b * T + t) * 3 * C + h * hs;
        let D = 0;
        for (let j = 0; j <= t; j++) {
          const v = (b * T + j) * 3 * C + 2 * C + h * hs;
          let dot = 0;
          for (let d = 0; d < hs; d++) dot += dout[o + d] * qkv[v + d];
          dp[j] = dot;
          D += p[j] * dot;
        }
        for (let j = 0; j <= t; j++) {
          if (p[j] === 0) continue;
          const k = (b * T + j) * 3 * C + C + h * hs;
          const v = k + C;
          const ds = p[j] * (dp[j] - D) * scale;
          for (let d = 0; d < hs; d++) {
            dqkv[q + d] += ds * qkv[k + d];
            dqkv[k + d] += ds * qkv[q + d];
            dqkv[v + d] += p[j] * dout[o + d];
          }
        }
      }
    }
  }
  return dqkv;
}
