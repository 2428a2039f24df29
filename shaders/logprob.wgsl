// Fused log-softmax over the vocabulary: per row of logits (R, V), the log-probability of the target token
// and the entropy H = −Σ p log p. A workgroup holds ROWS row groups of TPR threads (src/model/row-tuning.ts:
// TPR = 1 on CPU adapters, where barriers are dear, so no barrier runs at all). V is any size ≥ 2: the
// `_vec4` entry points read rows as vec4s and need V % 4 = 0 (rows then start on a vec4 boundary; half the
// time on SwiftShader), the others read scalars.
//
// Two sweeps over the row: the max m, then Σ e^z and Σ e^z·z together (z = x − m), which give
//   log Z = log Σ e^z,   log p_k = z_k − log Z,   H = log Z − Σ p·z.
// Backward recomputes those and writes
//   dlogits_k = gLogp·(1[k = target] − p_k) − gEntropy·p_k·(log p_k + H).
// Sums run in a fixed order (each thread strides its columns in order, then a tree over its row group).
//
// Ignore convention: targets[r] = 0xFFFFFFFF (padding) ⇒ logp = 0, entropy = 0, zero gradient row, and the
// row's loops run zero times (its threads only join the reductions). Any other target ≥ V (a caller bug
// the GPU cannot report) is treated the same way, so the kernel never reads outside the row.

struct Params { R: u32, V: u32 }

override TPR: u32 = 1; // threads per row; a power of two (tree reduction)
override ROWS: u32 = 8; // rows per workgroup
override WG: u32 = TPR * ROWS;

const LOWEST: f32 = -0x1.fffffep+127f; // the most negative finite f32

var<workgroup> red: array<vec2<f32>, WG>;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>; // (R, V)
@group(0) @binding(1) var<storage, read> logits4: array<vec4<f32>>; // (R, V/4), V % 4 = 0
@group(0) @binding(2) var<storage, read> targets: array<u32>; // (R)

// forward
@group(0) @binding(3) var<storage, read_write> logp: array<f32>; // (R)
@group(0) @binding(4) var<storage, read_write> entropy: array<f32>; // (R)

// backward
@group(0) @binding(3) var<storage, read_write> dlogits: array<f32>; // (R, V)
@group(0) @binding(3) var<storage, read_write> dlogits4: array<vec4<f32>>; // (R, V/4), V % 4 = 0
@group(0) @binding(4) var<storage, read> g_logp: array<f32>; // (R)
@group(0) @binding(5) var<storage, read> g_entropy: array<f32>; // (R)

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

/** This thread's row, and whether it is live (rows past the end and ignored rows are not). */
fn row_of(lid: u32, wid: vec3<u32>, nwg: vec3<u32>) -> vec2<u32> {
  let row = (wid.x + wid.y * nwg.x) * ROWS + lid / TPR;
  let live = row < params.R && targets[min(row, params.R - 1u)] < params.V;
  return vec2<u32>(row, u32(live));
}

/** (max, log Z, H) from the row max and this thread's (Σ e^z, Σ e^z·z). */
fn finish_stats(lid: u32, m: f32, partial: vec2<f32>) -> vec3<f32> {
  let s = row_sum(lid, partial);
  let log_z = log(s.x);
  return vec3<f32>(m, log_z, log_z - s.y / s.x);
}

/** Row statistics over `len` scalars from `base` (len 0 for rows that only join the reductions). */
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
  return finish_stats(lid, m, s);
}

/** As row_stats over `len4` vec4s from vec4 index `base4`; lanes sum in a fixed order (x + y) + (z + w). */
fn row_stats4(lid: u32, base4: u32, len4: u32) -> vec3<f32> {
  let lane = lid % TPR;
  var m4 = vec4<f32>(LOWEST);
  for (var i = lane; i < len4; i += TPR) { m4 = max(m4, logits4[base4 + i]); }
  let m = row_max(lid, max(max(m4.x, m4.y), max(m4.z, m4.w)));
  var se = vec4<f32>(0.0);
  var sez = vec4<f32>(0.0);
  for (var i = lane; i < len4; i += TPR) {
    let z = logits4[base4 + i] - m;
    let e = exp(z);
    se += e;
    sez += e * z;
  }
  return finish_stats(lid, m, vec2<f32>((se.x + se.y) + (se.z + se.w), (sez.x + sez.y) + (sez.z + sez.w)));
}

fn write_forward(lid: u32, row: u32, live: bool, st: vec3<f32>, target_logit: f32) {
  if (row >= params.R || lid % TPR != 0u) { return; }
  logp[row] = select(0.0, target_logit - st.x - st.y, live);
  entropy[row] = select(0.0, st.z, live);
}

@compute @workgroup_size(WG)
fn logprob_forward(
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
) {
  let ra = row_of(lid, wid, nwg);
  let live = ra.y != 0u;
  let base = ra.x * params.V;
  let st = row_stats(lid, base, select(0u, params.V, live));
  var target_logit = 0.0;
  if (live) { target_logit = logits[base + targets[ra.x]]; }
  write_forward(lid, ra.x, live, st, target_logit);
}

@compute @workgroup_size(WG)
fn logprob_forward_vec4(
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
) {
  let ra = row_of(lid, wid, nwg);
  let live = ra.y != 0u;
  let V4 = params.V / 4u;
  let st = row_stats4(lid, ra.x * V4, select(0u, V4, live));
  var target_logit = 0.0;
  if (live) {
    let t = targets[ra.x];
    target_logit = logits4[ra.x * V4 + t / 4u][t % 4u];
  }
  write_forward(lid, ra.x, live, st, target_logit);
}

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

@compute @workgroup_size(WG)
fn logprob_backward_vec4(
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
) {
  let ra = row_of(lid, wid, nwg);
  let row = ra.x;
  let live = ra.y != 0u;
  let V4 = params.V / 4u;
  let base4 = row * V4;
  let st = row_stats4(lid, base4, select(0u, V4, live));
  if (row >= params.R) { return; }
  let lane = lid % TPR;
  if (!live) {
    for (var i = lane; i < V4; i += TPR) { dlogits4[base4 + i] = vec4<f32>(0.0); }
    return;
  }
  let t = targets[row];
  let gl = g_logp[row];
  let ge = g_entropy[row];
  let shift = st.x + st.y;
  for (var i = lane; i < V4; i += TPR) {
    let lp = logits4[base4 + i] - shift;
    let p = exp(lp);
    var d = -gl * p - ge * p * (lp + st.z);
    if (i == t / 4u) { d[t % 4u] += gl; }
    dlogits4[base4 + i] = d;
  }
}
