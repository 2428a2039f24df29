// GELU, tanh approximation (as GPT-2). Vectorised: each invocation handles one vec4.
//   forward:  out = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
//   backward: dinp = dout · d/dx gelu(x)
// n4 = number of vec4s (the launcher requires the element count to be a multiple of 4).

struct Params { n4: u32 }

override WG: u32 = 256;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> inp: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;

const S: f32 = 0.7978845608028654; // √(2/π)

fn tanh_safe(v: vec4<f32>) -> vec4<f32> {
  // tanh via exp, clamped so exp never overflows (tanh(±10) is ±1 to float32 precision).
  let c = clamp(v, vec4<f32>(-10.0), vec4<f32>(10.0));
  let e = exp(2.0 * c);
  return (e - 1.0) / (e + 1.0);
}

@compute @workgroup_size(WG)
fn gelu_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.n4) { return; }
  let x = inp[i];
  out[i] = 0.5 * x * (1.0 + tanh_safe(S * (x + 0.044715 * x * x * x)));
}

@group(0) @binding(3) var<storage, read> dout: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn gelu_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.n4) { return; }
  let x = inp[i];
  let t = tanh_safe(S * (x + 0.044715 * x * x * x));
  let dt = S * (1.0 + 3.0 * 0.044715 * x * x);
  let grad = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * dt;
  out[i] = dout[i] * grad;
}
