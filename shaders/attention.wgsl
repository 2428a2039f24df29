// Causal multi-head self-attention with a per-token key mask, flash-attention style: forward keeps a running
// (online) softmax per query in registers and saves only lse; backward recomputes probabilities from q, k and
// lse, so no (B,H,T,T) matrix ever exists. No atomics: every invocation owns the rows it writes and loops in
// a fixed order, so results are bitwise deterministic.
//
//   B batch, T sequence length (Tmax of the cache for decode), C width, H heads, hs = C/H = 4·HS4.
//   qkv (B,T,3C): row = [q | k | v], head h = columns h·hs .. (h+1)·hs of each part.
//   Query t of sequence b attends key j iff j ≤ t && (key_mask[b·T + j] ≠ 0 || j == t).
//   Scores are s_tj = q_t·k_j / √hs; lse_t = log Σ_j exp(s_tj).
// Buffers are arrays of vec4 (SwiftShader pays per instruction, so a head row is HS4 wide loads); one
// qkv row is 3·C4 vec4s with C4 = H·HS4.

struct Params {
  T: u32,
  H: u32,
  // Invocations with work: B·H·T (forward, backward), B·H (decode), B·3·C4 (scatter).
  rows: u32,
  scale: f32, // 1/√hs
}

// Head size / 4. A pipeline constant, so the per-head loops have a fixed trip count the JIT can unroll.
override HS4: u32 = 8u;
override WG: u32 = 64u;
// Private arrays need a constant size: hs ≤ 128 (the launcher checks).
const MAX_HS4: u32 = 32u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> qkv: array<vec4<f32>>; // (B,T,3C); the KV cache for decode
@group(0) @binding(2) var<storage, read> key_mask: array<u32>; // (B,T)

fn invocation(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

fn hsum(v: vec4<f32>) -> f32 {
  return (v.x + v.y) + (v.z + v.w);
}

// ---------------------------------------------------------------- forward and decode

@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>; // (B,T,C) forward, (B,C) decode
@group(0) @binding(4) var<storage, read_write> lse: array<f32>; // (B,H,T)
@group(0) @binding(4) var<storage, read> positions: array<u32>; // (B) decode: the query position per sequence

// Attention of query t of the sequence whose first row is `row0` (= b·T), head h; writes the head's output
// slice at out[out_at ..] and returns lse. The diagonal key goes first: it is always allowed, so it seeds the
// running max and sum and no -inf sentinel is needed. Forward and decode share this, so a decoded token
// reproduces the full forward's arithmetic exactly.
fn attend_query(row0: u32, t: u32, h: u32, out_at: u32) -> f32 {
  let c4 = params.H * HS4;
  let stride = 3u * c4;
  let qb = (row0 + t) * stride + h * HS4;
  var q: array<vec4<f32>, MAX_HS4>;
  var acc: array<vec4<f32>, MAX_HS4>;
  var sv = vec4<f32>(0.0);
  for (var d = 0u; d < HS4; d++) {
    q[d] = qkv[qb + d] * params.scale;
    sv += q[d] * qkv[qb + c4 + d];
    acc[d] = qkv[qb + 2u * c4 + d];
  }
  var m = hsum(sv);
  var l = 1.0;
  for (var j = 0u; j < t; j++) {
    if (key_mask[row0 + j] == 0u) {
      continue;
    }
    let kb = (row0 + j) * stride + c4 + h * HS4;
    var dv = vec4<f32>(0.0);
    for (var d = 0u; d < HS4; d++) {
      dv += q[d] * qkv[kb + d];
    }
    let s = hsum(dv);
    // Branch-free online softmax: SIMD lanes (invocations) never diverge on "new max or not".
    let m_new = max(m, s);
    let corr = exp(m - m_new);
    let p = exp(s - m_new);
    l = l * corr + p;
    for (var d = 0u; d < HS4; d++) {
      acc[d] = acc[d] * corr + p * qkv[kb + c4 + d];
    }
    m = m_new;
  }
  let inv = 1.0 / l;
  for (var d = 0u; d < HS4; d++) {
    out[out_at + d] = acc[d] * inv;
  }
  return m + log(l);
}

// One invocation per (b, h, t), t fastest: neighbouring lanes have nearly equal causal loop lengths.
@compute @workgroup_size(WG)
fn attention_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let id = invocation(gid, nwg);
  if (id >= params.rows) {
    return;
  }
  let T = params.T;
  let bh = id / T;
  let t = id % T;
  let b = bh / params.H;
  let h = bh % params.H;
  let row0 = b * T;
  lse[id] = attend_query(row0, t, h, (row0 + t) * params.H * HS4 + h * HS4);
}

// One invocation per (b, h): the single query at positions[b] over cache rows j ≤ positions[b]. A position
// outside the cache writes nothing (the launcher cannot see GPU-resident positions; the orchestrator keeps
// them in range).
@compute @workgroup_size(WG)
fn attention_decode(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let id = invocation(gid, nwg);
  if (id >= params.rows) {
    return;
  }
  let b = id / params.H;
  let h = id % params.H;
  let t = positions[b];
  if (t >= params.T) {
    return;
  }
  _ = attend_query(b * params.T, t, h, b * params.H * HS4 + h * HS4);
}

// ---------------------------------------------------------------- backward

@group(0) @binding(3) var<storage, read_write> dqkv: array<vec4<f32>>; // (B,T,3C)
@group(0) @binding(4) var<storage, read> lse_saved: array<f32>; // (B,H,T)
@group(0) @binding(5) var<storage, read> out_saved: array<vec4<f32>>; // (B,T,C)
@group(0) @binding(6) var<storage, read> dout: array<vec4<f32>>; // (B,T,C)

// dq_i = Σ_j dS_ij k_j / √hs with dS_ij = P_ij (dout_i·v_j − D_i), D_i = dout_i·out_i. One invocation per
// query row (b, h, i), keys in ascending order.
@compute @workgroup_size(WG)
fn attention_backward_dq(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let id = invocation(gid, nwg);
  if (id >= params.rows) {
    return;
  }
  let T = params.T;
  let c4 = params.H * HS4;
  let stride = 3u * c4;
  let bh = id / T;
  let i = id % T;
  let b = bh / params.H;
  let h = bh % params.H;
  let row0 = b * T;
  let qb = (row0 + i) * stride + h * HS4;
  let ob = (row0 + i) * c4 + h * HS4;
  var q: array<vec4<f32>, MAX_HS4>;
  var g: array<vec4<f32>, MAX_HS4>; // dout_i
  var dq: array<vec4<f32>, MAX_HS4>;
  var dv = vec4<f32>(0.0);
  for (var d = 0u; d < HS4; d++) {
    q[d] = qkv[qb + d] * params.scale;
    g[d] = dout[ob + d];
    dv += g[d] * out_saved[ob + d];
    dq[d] = vec4<f32>(0.0);
  }
  let D = hsum(dv);
  let L = lse_saved[id];
  for (var j = 0u; j <= i; j++) {
    if (j != i && key_mask[row0 + j] == 0u) {
      continue;
    }
    let kb = (row0 + j) * stride + c4 + h * HS4;
    var k: array<vec4<f32>, MAX_HS4>;
    var sv = vec4<f32>(0.0);
    var pv = vec4<f32>(0.0);
    for (var d = 0u; d < HS4; d++) {
      k[d] = qkv[kb + d];
      sv += q[d] * k[d];
      pv += g[d] * qkv[kb + c4 + d];
    }
    let p = exp(hsum(sv) - L);
    let ds = p * (hsum(pv) - D);
    for (var d = 0u; d < HS4; d++) {
      dq[d] += ds * k[d];
    }
  }
  for (var d = 0u; d < HS4; d++) {
    dqkv[qb + d] = dq[d] * params.scale;
  }
}

// dk_j = Σ_i dS_ij q_i / √hs and dv_j = Σ_i P_ij dout_i. One invocation per key row (b, h, j), queries i ≥ j
// in ascending order; a masked key is seen only by its own query. D_i is recomputed here rather than read
// from a scratch buffer, so the launcher needs no extra tensor (costs one more hs-long dot per (i, j)).
@compute @workgroup_size(WG)
fn attention_backward_dkv(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let id = invocation(gid, nwg);
  if (id >= params.rows) {
    return;
  }
  let T = params.T;
  let c4 = params.H * HS4;
  let stride = 3u * c4;
  let bh = id / T;
  let j = id % T;
  let b = bh / params.H;
  let h = bh % params.H;
  let row0 = b * T;
  let kb = (row0 + j) * stride + c4 + h * HS4;
  var k: array<vec4<f32>, MAX_HS4>;
  var v: array<vec4<f32>, MAX_HS4>;
  var dk: array<vec4<f32>, MAX_HS4>;
  var dv: array<vec4<f32>, MAX_HS4>;
  for (var d = 0u; d < HS4; d++) {
    k[d] = qkv[kb + d] * params.scale;
    v[d] = qkv[kb + c4 + d];
    dk[d] = vec4<f32>(0.0);
    dv[d] = vec4<f32>(0.0);
  }
  let end = select(j + 1u, T, key_mask[row0 + j] != 0u);
  for (var i = j; i < end; i++) {
    let qb = (row0 + i) * stride + h * HS4;
    let ob = (row0 + i) * c4 + h * HS4;
    var q: array<vec4<f32>, MAX_HS4>;
    var g: array<vec4<f32>, MAX_HS4>;
    var sv = vec4<f32>(0.0);
    var pv = vec4<f32>(0.0);
    var Dv = vec4<f32>(0.0);
    for (var d = 0u; d < HS4; d++) {
      q[d] = qkv[qb + d];
      g[d] = dout[ob + d];
      sv += q[d] * k[d];
      pv += g[d] * v[d];
      Dv += g[d] * out_saved[ob + d];
    }
    let p = exp(hsum(sv) - lse_saved[bh * T + i]);
    let ds = p * (hsum(pv) - hsum(Dv));
    for (var d = 0u; d < HS4; d++) {
      dv[d] += p * g[d];
      dk[d] += ds * q[d];
    }
  }
  let vb = kb + c4;
  for (var d = 0u; d < HS4; d++) {
    dqkv[kb + d] = dk[d] * params.scale;
    dqkv[vb + d] = dv[d];
  }
}

// ---------------------------------------------------------------- KV cache

@group(0) @binding(1) var<storage, read> qkv_new: array<vec4<f32>>; // (B,3C)
@group(0) @binding(2) var<storage, read> scatter_positions: array<u32>; // (B)
@group(0) @binding(3) var<storage, read_write> cache: array<vec4<f32>>; // (B,Tmax,3C)

// cache[b, positions[b]] = qkv_new[b]; one invocation per vec4. Out-of-range positions write nothing.
@compute @workgroup_size(WG)
fn kv_scatter(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let id = invocation(gid, nwg);
  if (id >= params.rows) {
    return;
  }
  let stride = 3u * params.H * HS4;
  let b = id / stride;
  let t = scatter_positions[b];
  if (t < params.T) {
    cache[(b * params.T + t) * stride + id % stride] = qkv_new[id];
  }
}
