// Residual stream addition, vectorised: each invocation handles one vec4 (n4 = element count / 4).
//   add_forward:  out = a + b
//   add_in_place: acc += b    (acc bound once as read_write: WebGPU forbids binding one buffer both
//                              read-only and read_write in the same dispatch)
// The destination sits at binding 1 in both entry points so the two share one binding table.

struct Params { n4: u32 }

override WG: u32 = 256;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> a: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn add_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.n4) { return; }
  dst[i] = a[i] + b[i];
}

@compute @workgroup_size(WG)
fn add_in_place(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.n4) { return; }
  dst[i] = dst[i] + b[i];
}
