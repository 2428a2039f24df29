// Fused log-softmax over the vocabulary: per row of logits (R, V), the log-probability of the target token
// and the entropy H = −Σ p log p. One workgroup per row; V is any size ≥ 2 (scalar loads, since a row of a
// vocabulary that is not a multiple of 4 does not start on a vec4 boundary).
//
// Two sweeps over the row: the max m, then Σ e^z and Σ e^z·z together (z = x − m), which give
//   log Z = log Σ e^z,   log p_k = z_k − log Z,   H = log Z − Σ p·z.
// Backward recomputes those and writes
//   dlogits_k = gLogp·(1[k = target] − p_k) − gEntropy·p_k·(log p_k + H).
// Sums run in a fixed order (each thread strides its columns in order, then a tree over the workgroup).
//
// Ignore convention: targets[r] = 0xFFFFFFFF (padding) ⇒ logp = 0, entropy = 0, zero gradient row, and no
// exp is computed. Any other target ≥ V (a caller bug the GPU cannot report) is treated the same way, so
// the kernel never reads outside the row.

struct Params { R: u32, V: u32 }

override WG: u32 = 64; // threads per row; a power of two (tree reduction)

const LOWEST: f32 = -0x1.fffffep+127f; // the most negative finite f32

var<workgroup> red: array<vec2<f32>, WG>;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>; // (R, V)
@group(0) @binding(2) var<storage, read> targets: array<u32>; // (R)

// forward
@group(0) @binding(3) var<storage, read_write> logp: array<f32>; // (R)
@group(0) @binding(4) var<storage, read_write> entropy: array<f32>; // (R)

fn reduce_max(lid: u32, v: f32) -> f32 {
  red[lid].x = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      red[lid].x = max(red[lid].x, red[lid + s].x);
    }
    workgroupBarrier();
  }
  let total = red[0].x;
  workgroupBarrier();
  return total;
}

fn reduce_sum(lid: u32, v: vec2<f32>) -> vec2<f32> {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      red[lid] = red[lid] + red[lid + s];
    }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}

/** (max, log Z, H) of the row starting at `base`, every thread gets them. */
fn row_stats(lid: u32, base: u32) -> vec3<f32> {
  let V = params.V;
  var m = LOWEST;
  for (var i = lid; i < V; i += WG) { m = max(m, logits[base + i]); }
  m = reduce_max(lid, m);
  var s = vec2<f32>(0.0);
  for (var i = lid; i < V; i += WG) {
    let z = logits[base + i] - m;
    let e = exp(z);
    s += vec2<f32>(e, e * z);
  }
  s = reduce_sum(lid, s);
  let log_z = log(s.x);
  return vec3<f32>(m, log_z, log_z - s.y / s.x);
}

@compute @workgroup_size(WG)
fn logprob_forward(
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= params.R) { return; }
  let t = targets[row];
  if (t >= params.V) {
    if (lid == 0u) {
      logp[row] = 0.0;
      entropy[row] = 0.0;
    }
    return;
  }
  let base = row * params.V;
  let st = row_stats(lid, base);
  if (lid == 0u) {
    logp[row] = logits[base + t] - st.x - st.y;
    entropy[row] = st.z;
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
  let row = wid.x + wid.y * nwg.x;
  if (row >= params.R) { return; }
  let V = params.V;
  let base = row * V;
  let t = targets[row];
  if (t >= V) {
    for (var i = lid; i < V; i += WG) { dlogits[base + i] = 0.0; }
    return;
  }
  let st = row_stats(lid, base);
  let gl = g_logp[row];
  let ge = g_entropy[row];
  let shift = st.x + st.y; // log p = x − (max + log Z)
  for (var i = lid; i < V; i += WG) {
    let lp = logits[base + i] - shift;
    let p = exp(lp);
    var d = -gl * p - ge * p * (lp + st.z);
    if (i == t) { d += gl; }
    dlogits[base + i] = d;
  }
}
