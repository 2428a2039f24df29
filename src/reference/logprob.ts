// float64 reference for shaders/logprob.wgsl: per row of logits, the log-probability of the target token and
// the entropy of the softmax distribution (a fused log-softmax; probabilities are never stored).
//
// Ignore convention: a row whose target is IGNORE_TARGET (0xFFFFFFFF, e.g. padding after a short sequence)
// has logp = 0, entropy = 0 and a zero gradient row, whatever its logits and upstream gradients.

export const IGNORE_TARGET = 0xffffffff;

function checkTarget(t: number, V: number, row: number): void {
  if (t !== IGNORE_TARGET && t >= V) {
    throw new Error(`logprob: target ${t} of row ${row} is outside the vocabulary (V = ${V})`);
  }
}

/** Max-shifted log-partition and entropy of one row: logZ = log Σ e^z, H = logZ − Σ p·z (z = x − max). */
function rowStats(row: Float64Array): { max: number; logZ: number; entropy: number } {
  let max = Number.NEGATIVE_INFINITY;
  for (const x of row) max = Math.max(max, x);
  let sumExp = 0;
  let sumExpZ = 0;
  for (const x of row) {
    const e = Math.exp(x - max);
    sumExp += e;
    sumExpZ += e * (x - max);
  }
  const logZ = Math.log(sumExp);
  return { max, logZ, entropy: logZ - sumExpZ / sumExp };
}

export function logprobForward(
  logits: Float64Array, // (R,V)
  targets: Uint32Array, // (R)
  R: number,
  V: number,
): { logp: Float64Array; entropy: Float64Array } {
  const logp = new Float64Array(R); // (R)
  const entropy = new Float64Array(R); // (R)
  for (let r = 0; r < R; r++) {
    const t = targets[r];
    checkTarget(t, V, r);
    if (t === IGNORE_TARGET) continue;
    const row = logits.subarray(r * V, (r + 1) * V);
    const s = rowStats(row);
    logp[r] = row[t] - s.max - s.logZ;
    entropy[r] = s.entropy;
  }
  return { logp, entropy };
}

/**
 * With p = softmax(logits) and H = −Σ p log p:
 *   ∂logp/∂x_k = 1[k = target] − p_k
 *   ∂H/∂x_k    = −Σ_j p_j (δ_jk − p_k)(log p_j + 1) = −p_k (log p_k + H)
 * so dlogits_k = gLogp·(1[k = target] − p_k) − gEntropy·p_k·(log p_k + H).
 */
export function logprobBackward(
  logits: Float64Array, // (R,V)
  targets: Uint32Array, // (R)
  gLogp: Float64Array, // (R) ∂L/∂logp
  gEntropy: Float64Array, // (R) ∂L/∂entropy
  R: number,
  V: number,
): Float64Array {
  const dlogits = new Float64Array(R * V); // (R,V)
  for (let r = 0; r < R; r++) {
    const t = targets[r];
    checkTarget(t, V, r);
    if (t === IGNORE_TARGET) continue;
    const row = logits.subarray(r * V, (r + 1) * V);
    const s = rowStats(row);
    for (let k = 0; k < V; k++) {
      const logP = row[k] - s.max - s.logZ;
      const p = Math.exp(logP);
      dlogits[r * V + k] = gLogp[r] * ((k === t ? 1 : 0) - p) - gEntropy[r] * p * (logP + s.entropy);
    }
  }
  return dlogits;
}
