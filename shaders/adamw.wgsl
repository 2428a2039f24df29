// The optimizer step, entirely on the GPU (no readback between backward and the update):
//   grad_norm_partials: each of P invocations reduces a fixed strided slice of the gradients to (Σg², flag)
//   grad_norm_finish:   one invocation adds the P partials in order → stats = [Σg², ‖g‖, clipScale, nonFinite]
//   adamw_update:       reads stats; clipped AdamW with decoupled weight decay on [0, decayEnd); skipped entirely
//                       when nonFinite ≠ 0, so a NaN/Inf gradient never reaches parameters or moments.
// Every sum has a fixed order (per-invocation strided loop, then a serial sum), so results are bitwise deterministic.
// Buffers: params, grads, m, v are (N) f32 viewed as N/4 vec4s; partials (P, 2); stats (4).

override WG: u32 = 256;

// ---------------------------------------------------------------- gradient norm

struct NormParams {
  n4: u32,       // N / 4
  parts: u32,    // P: workgroups in the first stage (= rows of partials that are written)
  maxNorm: f32,  // ≤ 0: clipping off
}

@group(0) @binding(0) var<uniform> np: NormParams;
@group(0) @binding(1) var<storage, read> gradsIn: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> partials: array<vec2<f32>>;

// Exponent bits all ones ⇔ NaN or ±Inf. Bit test, not x != x: compilers may assume floats are never NaN.
fn nonFiniteLanes(g: vec4<f32>) -> bool {
  let e = bitcast<vec4<u32>>(g) & vec4<u32>(0x7f800000u);
  return any(e == vec4<u32>(0x7f800000u));
}

// No workgroup barriers anywhere: on a CPU adapter (SwiftShader) a 256-wide tree reduction per workgroup cost
// ~230 ms for 450k gradients, a strided loop per invocation a few ms. Invocation p of P sums elements
// p, p + P, p + 2P, … in order, so the result does not depend on the workgroup size.
@compute @workgroup_size(WG)
fn grad_norm_partials(@builtin(global_invocation_id) gid: vec3<u32>) {
  let p = gid.x;
  if (p >= np.parts) { return; }
  var acc = vec4<f32>(0.0);
  var flag = 0.0;
  for (var i = p; i < np.n4; i += np.parts) {
    let g = gradsIn[i];
    if (nonFiniteLanes(g)) { flag = 1.0; } else { acc += g * g; }
  }
  partials[p] = vec2<f32>((acc.x + acc.y) + (acc.z + acc.w), flag);
}

// Bindings of the second stage (auto layouts drop unused bindings, so each stage numbers its own from 0).
@group(0) @binding(1) var<storage, read> partialsIn: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> statsOut: array<vec4<f32>>;

// One invocation adds the P partials in order.
@compute @workgroup_size(1)
fn grad_norm_finish() {
  var sumSq = 0.0;
  var flag = 0.0;
  for (var i = 0u; i < np.parts; i++) {
    sumSq += partialsIn[i].x;
    flag = max(flag, partialsIn[i].y);
  }
  let norm = sqrt(sumSq);
  // An overflowed Σg² (all gradients finite but huge) makes the norm useless: treat it like a NaN gradient.
  let bad = flag > 0.0 || nonFiniteLanes(vec4<f32>(sumSq));
  var scale = 1.0;
  if (np.maxNorm > 0.0) { scale = min(1.0, np.maxNorm / (norm + 1e-6)); }
  statsOut[0] = vec4<f32>(sumSq, norm, select(scale, 0.0, bad), select(0.0, 1.0, bad));
}

// ---------------------------------------------------------------- AdamW

struct AdamParams {
  n4: u32,
  decayEnd: u32,     // elements [0, decayEnd) get weight decay
  lr: f32,
  beta1: f32,
  beta2: f32,
  oneMinusBeta1: f32, // 1 − β₁ and the bias corrections are computed in float64 on the CPU
  oneMinusBeta2: f32,
  bias1: f32,        // 1 − β₁ᵗ
  bias2: f32,        // 1 − β₂ᵗ
  eps: f32,
  lrDecay: f32,      // lr · weightDecay
}

@group(0) @binding(0) var<uniform> ap: AdamParams;
@group(0) @binding(1) var<storage, read> grads: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> stats: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> params: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> m: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> v: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn adamw_update(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  let s = stats[0];
  if (i >= ap.n4 || s.w != 0.0) { return; }
  let g = grads[i] * s.z;
  let mi = ap.beta1 * m[i] + ap.oneMinusBeta1 * g;
  let vi = ap.beta2 * v[i] + ap.oneMinusBeta2 * g * g;
  m[i] = mi;
  v[i] = vi;
  let lane = vec4<u32>(4u * i) + vec4<u32>(0u, 1u, 2u, 3u);
  let decay = select(vec4<f32>(0.0), vec4<f32>(ap.lrDecay), lane < vec4<u32>(ap.decayEnd));
  var p = params[i];
  p -= decay * p;
  p -= ap.lr * (mi / ap.bias1) / (sqrt(vi / ap.bias2) + ap.eps);
  params[i] = p;
}
