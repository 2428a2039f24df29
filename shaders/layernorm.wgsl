// LayerNorm over the last dimension (GPT-2: biased variance, eps inside the root). Rows of C channels are
// read as C4 = C/4 vec4s. Every sum runs in a fixed order (each thread strides its columns in order, then a
// tree over the workgroup; partials over rows are summed chunk by chunk), so results are bitwise
// deterministic without atomics.
//
//   layernorm_forward      one workgroup per row:  out = (x − mean)·rstd·w + b; saves mean, rstd (R)
//   layernorm_backward     one workgroup per chunk of RPC rows: dinp (= or +=), and per-chunk partial sums
//                          of dout·norm and dout into partials (P, 2, C), P = ceil(R / RPC)
//   layernorm_param_grads  one invocation per vec4 of channels: dweight, dbias = Σ_p partials (overwrite)
//
// With n = (x − mean)·rstd and dn = dout·w:  dinp = rstd·(dn − mean(dn) − n·mean(dn·n)).

struct Params {
  R: u32,
  C4: u32,
  eps: f32,
  accumulate: u32, // backward: 1 ⇒ dinp += (the residual stream's gradient), 0 ⇒ dinp =
  chunks: u32, // P
}

override WG: u32 = 32; // threads per workgroup; a power of two (tree reduction)
override RPC: u32 = 16; // rows per backward chunk

var<workgroup> red: array<vec2<f32>, WG>;
var<workgroup> row_stats: array<vec2<f32>, RPC>; // per chunk row: (mean(dn), mean(dn·n))

@group(0) @binding(0) var<uniform> params: Params;

// forward
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>; // (R, C)
@group(0) @binding(2) var<storage, read_write> mean_out: array<f32>; // (R)
@group(0) @binding(3) var<storage, read_write> rstd_out: array<f32>; // (R)
@group(0) @binding(4) var<storage, read> inp: array<vec4<f32>>; // (R, C)
@group(0) @binding(5) var<storage, read> weight: array<vec4<f32>>; // (C)
@group(0) @binding(6) var<storage, read> bias: array<vec4<f32>>; // (C)

fn hsum(v: vec4<f32>) -> f32 {
  return (v.x + v.y) + (v.z + v.w);
}

/** Workgroup sum of `v` (every thread gets the total); leaves `red` free for the next call. */
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

@compute @workgroup_size(WG)
fn layernorm_forward(
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= params.R) { return; }
  let C4 = params.C4;
  let base = row * C4;
  let inv_c = 1.0 / f32(4u * C4);

  var s = vec4<f32>(0.0);
  for (var i = lid; i < C4; i += WG) { s += inp[base + i]; }
  let mean = reduce_sum(lid, vec2<f32>(hsum(s), 0.0)).x * inv_c;

  // Two passes (mean, then squared deviations): no cancellation when |mean| ≫ std.
  var q = vec4<f32>(0.0);
  for (var i = lid; i < C4; i += WG) {
    let d = inp[base + i] - mean;
    q += d * d;
  }
  let rstd = 1.0 / sqrt(reduce_sum(lid, vec2<f32>(hsum(q), 0.0)).x * inv_c + params.eps);

  for (var i = lid; i < C4; i += WG) {
    out[base + i] = (inp[base + i] - mean) * rstd * weight[i] + bias[i];
  }
  if (lid == 0u) {
    mean_out[row] = mean;
    rstd_out[row] = rstd;
  }
}

// backward
@group(0) @binding(1) var<storage, read_write> dinp: array<vec4<f32>>; // (R, C)
@group(0) @binding(2) var<storage, read_write> partials: array<vec4<f32>>; // (P, 2, C)
@group(0) @binding(3) var<storage, read> dout: array<vec4<f32>>; // (R, C)
@group(0) @binding(6) var<storage, read> mean_in: array<f32>; // (R)
@group(0) @binding(7) var<storage, read> rstd_in: array<f32>; // (R)

@compute @workgroup_size(WG)
fn layernorm_backward(
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
) {
  let chunk = wid.x + wid.y * nwg.x;
  if (chunk >= params.chunks) { return; }
  let C4 = params.C4;
  let inv_c = 1.0 / f32(4u * C4);
  let first = chunk * RPC;
  let rows = min(RPC, params.R - first);

  // Phase 1: the two row means dinp needs, one reduction per row.
  for (var k = 0u; k < rows; k++) {
    let row = first + k;
    let m = mean_in[row];
    let r = rstd_in[row];
    var dn_sum = vec4<f32>(0.0);
    var dnn_sum = vec4<f32>(0.0);
    for (var i = lid; i < C4; i += WG) {
      let dn = dout[row * C4 + i] * weight[i];
      dn_sum += dn;
      dnn_sum += dn * (inp[row * C4 + i] - m) * r;
    }
    let total = reduce_sum(lid, vec2<f32>(hsum(dn_sum), hsum(dnn_sum)));
    if (lid == 0u) { row_stats[k] = total * inv_c; }
  }
  workgroupBarrier();

  // Phase 2: each thread owns its columns across the chunk's rows, so the weight/bias partials are
  // private running sums in row order.
  for (var i = lid; i < C4; i += WG) {
    let w = weight[i];
    var dw = vec4<f32>(0.0);
    var db = vec4<f32>(0.0);
    for (var k = 0u; k < rows; k++) {
      let row = first + k;
      let idx = row * C4 + i;
      let n = (inp[idx] - mean_in[row]) * rstd_in[row];
      let g = dout[idx];
      let st = row_stats[k];
      var d = rstd_in[row] * (g * w - st.x - n * st.y);
      if (params.accumulate != 0u) { d += dinp[idx]; }
      dinp[idx] = d;
      dw += g * n;
      db += g;
    }
    partials[(2u * chunk) * C4 + i] = dw;
    partials[(2u * chunk + 1u) * C4 + i] = db;
  }
}

// parameter gradients
@group(0) @binding(1) var<storage, read_write> dweight: array<vec4<f32>>; // (C)
@group(0) @binding(2) var<storage, read_write> dbias: array<vec4<f32>>; // (C)
@group(0) @binding(3) var<storage, read> partials_in: array<vec4<f32>>; // (P, 2, C)

@compute @workgroup_size(WG)
fn layernorm_param_grads(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let C4 = params.C4;
  if (i >= C4) { return; }
  var dw = vec4<f32>(0.0);
  var db = vec4<f32>(0.0);
  for (var p = 0u; p < params.chunks; p++) {
    dw += partials_in[(2u * p) * C4 + i];
    db += partials_in[(2u * p + 1u) * C4 + i];
  }
  dweight[i] = dw;
  dbias[i] = db;
}
