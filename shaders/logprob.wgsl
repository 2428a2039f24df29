// Fused log-softmax over the vocabulary: per row of logits (R, V), the log-probability of the target token
// and the entropy H = −Σ p log p. A workgroup holds ROWS row groups of TPR threads (src/model/row-tuning.ts:
// TPR = 1 on CPU adapters, where barriers are dear, so no barrier runs at all). V is any size ≥ 2 (scalar
// loads: a row of a vocabulary that is not a multiple of 4 does not start on a vec4 boundary).
//
// Two sweeps over the row: the max m, then Σ e^z and Σ e^z·z together (z = x − m), which give
//   log Z = log Σ e^z,   log p_k = z_k − log Z,   H = log Z − Σ p·z.
// Backward recomputes those and writes
//   dlogits_k = gLogp·(1[k = target] − p_k) − gEntropy·p_k·(log p_k + H).
// Sums run in a fixed order (each thread strides its columns in order, then a tree over its row group).
//
// Ignore convention: targets[r] = 0xFFFFFFFF (padding) ⇒ logp = 0, entropy = 0, zero gradient row, and the
// row's loops run zero times (its threads only join the reductions). Any other target ≥ V (a caller bug the GPU cannot report) is treated the same way, so
// the kernel never reads outside the row.

struct Params { R: u32, V: u32 }

override TPR: u32 = 1; // threads per row; a power of two (tree reduction)
override ROWS: u32 = 8; // rows per workgroup
override WG: u32 = TPR * ROWS;

const LOWEST: f32 = -0x1.fffffep+127f; // the most negative finite f32

var<workgroup> red: array<vec2<f32>, WG>;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>; // (R, V)
@group(0) @binding(2) var<storage, read> targets: array<u32>; // (R)

// forward
@group(0) @binding(3) var<storage, read_write> logp: array<f32>; // (R)
@group(0) @binding(4) var<storage, read_write> entropy: array<f32>; // (R)

/** Max over the TPR threads of this thread's row group; all of them get it. */
fn row_max(lid: u32, v: f32) -> f32 {
  if (TPR == 1u) { return v; }
  let lane = lid % TPR;
  red[lid].x = v;
  workgroupBarrier();
  for (var s = TPR / 2u; s > 0u; s = s >> 1u) {
    if (lane < s) {
      red[lid].x = max(red[lid].x, red[lid + s].x);
    }
    workgroupBarrier();
  }
  let total = red[lid - lane].x;
  workgroupBarrier();
  return total;
}

/** Sum over the TPR threads of this thread's row group; all of them get it. */
fn row_sum(lid: u32, v: vec2<f32>) -> vec2<f32> {
  if (TPR == 1u) { return v; }
  let lane = lid % TPR;
  red[lid] = v;
  workgroupBarrier();
  for (var s = TPR / 2u; s > 0u; s = s >> 1u) {
    if (lane < s) {
      red[lid] = red[lid] + red[lid + s];
    }
    workgroupBarrier();
  }
  let total = red[lid - lane];
  workgroupBarrier();
  return total;
}

/**
 * (max, log Z, H) of the `len` logits from `base` (len 0 for rows that only join the reductions); every
 * thread of the row group gets them.
 */
fn row_stats(lid: u32, base: u32, len: u32) -> vec3<f32> {
  let lane = lid % TPR;
  var m = LOWEST;
  for (var i = lane; i < len; i += TPR) { m = max(m, logits[base + i]); }
  m = row_max(lid, m);
  var s = vec2<f32>(0.0);
  for (var i = lane; i < len; i += TPR) {
    let z = logits[base + i] - m;
    let e = exp(z);
    s += vec2<f32>(e, e * z);
  }
  s = row_sum(lid, s);
  let log_z = log(s.x);
  return vec3<f32>(m, log_z, log_z - s.y / s.x);
}

/** This thread's row, and whether it is live (rows past the end and ignored rows are not). */
fn row_of(lid: u32, wid: vec3<u32>, nwg: vec3<u32>) -> vec2<u32> {
  let row = (wid.x + wid.y * nwg.x) * ROWS + lid / TPR;
  let live = row < params.R && targets[min(row, params.R - 1u)] < params.V;
  return vec2<u32>(row, u32(live));
}

@compute @workgroup_size(WG)
fn logprob_forward(
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
) {
  let ra = row_of(lid, wid, nwg);
  let row = ra.x;
  let live = ra.y != 0u;
  let base = row * params.V;
  let st = row_stats(lid, base, select(0u, params.V, live));
  if (row >= params.R || lid % TPR != 0u) { return; }
  if (live) {
    logp[row] = logits[base + targets[row]] - st.x - st.y;
    entropy[row] = st.z;
  } else {
    logp[row] = 0.0;
    entropy[row] = 0.0;
  }
}

// backward
@group(0) @binding(3) var<storage, read_write> dlogits: array<f32>; // (R, V)
@group(0) @binding(4) var<storage, read> g_logp: array<f32>; // (R)
@group(0) @binding(5) var<storage, read> g_entropy: array<f32>; // (R)

@compute @workgroup_size(WG)
fn logprob_backward(
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
) {
  let ra = row_of(lid, wid, nwg);
  let row = ra.x;
  let live = ra.y != 0u;
  let V = params.V;
  let base = row * V;
  let st = row_stats(lid, base, select(0u, V, live));
  if (row >= params.R) { return; }
  let lane = lid % TPR;
  if (!live) {
    for (var i = lane; i < V; i += TPR) { dlogits[base + i] = 0.0; }
    return;
  }
  let t = targets[row];
  let gl = g_logp[row];
  let ge = g_entropy[row];
  let shift = st.x + st.y; // log p = x − (max + log Z)
  for (var i = lane; i < V; i += TPR) {
    let lp = logits[base + i] - shift;
    let p = exp(lp);
    var d = -gl * p - ge * p * (lp + st.z);
    if (i == t) { d += gl; }
    dlogits[base + i] = d;
  }
}
