// Token + learned position embedding, and its deterministic gradient. Rows of C channels as C4 = C/4 vec4s;
// one invocation per (row, vec4).
//
//   embedding_forward   out[n] = wte[tokens[n]] + wpe[positions[n]]                      out (N, C)
//   embedding_decode    out[b] = wte[tokens[b, positions[b]]] + wpe[positions[b]]       out (B, C)
//                       (KV-cache decoding: the current token is looked up on the GPU, no readback)
//   embedding_backward  table[ids[u]] (+)= Σ_{rows of bucket u, in order} dout[row]     table (V or T, C)
//
// The backward reads a CSR bucket index built on the CPU (src/model/embedding.ts), packed in one u32 array:
//   [ ids (U) | offsets (U + 1) | rows (N) ]
// Each (bucket, vec4) invocation owns its output, so there are no atomics and the sum order is fixed.
// Out-of-range ids in the forward (a caller bug the GPU cannot report) give zeros, never a stray read.

struct Params {
  N: u32, // rows (forward, backward) or sequences B (decode)
  C4: u32,
  V: u32,
  T: u32, // rows of wpe
  stride: u32, // decode: Tmax, the row length of tokens (B, Tmax); backward: U, the bucket count
  accumulate: u32, // backward: 1 ⇒ table +=, 0 ⇒ table =
}

override WG: u32 = 256;

@group(0) @binding(0) var<uniform> params: Params;

// forward and decode
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>; // (N, C)
@group(0) @binding(2) var<storage, read> wte: array<vec4<f32>>; // (V, C)
@group(0) @binding(3) var<storage, read> wpe: array<vec4<f32>>; // (T, C)
@group(0) @binding(4) var<storage, read> tokens: array<u32>; // (N), decode: (B, Tmax)
@group(0) @binding(5) var<storage, read> positions: array<u32>; // (N), decode: (B)

fn lookup(token: u32, pos: u32, c4: u32) -> vec4<f32> {
  if (token >= params.V || pos >= params.T) { return vec4<f32>(0.0); }
  return wte[token * params.C4 + c4] + wpe[pos * params.C4 + c4];
}

@compute @workgroup_size(WG)
fn embedding_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.N * params.C4) { return; }
  let n = i / params.C4;
  out[i] = lookup(tokens[n], positions[n], i % params.C4);
}

@compute @workgroup_size(WG)
fn embedding_decode(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.N * params.C4) { return; }
  let b = i / params.C4;
  let pos = positions[b];
  var token = 0xffffffffu; // a position past the token row reads nothing
  if (pos < params.stride) { token = tokens[b * params.stride + pos]; }
  out[i] = lookup(token, pos, i % params.C4);
}

// backward
@group(0) @binding(1) var<storage, read_write> table: array<vec4<f32>>; // dwte (V, C) or dwpe (T, C)
@group(0) @binding(2) var<storage, read> dout: array<vec4<f32>>; // (N, C)
@group(0) @binding(3) var<storage, read> buckets: array<u32>; // (2U + 1 + N)

@compute @workgroup_size(WG)
fn embedding_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  let C4 = params.C4;
  let U = params.stride;
  if (i >= U * C4) { return; }
  let u = i / C4;
  let c4 = i % C4;
  let end = buckets[U + u + 1u];
  var s = vec4<f32>(0.0);
  for (var k = buckets[U + u]; k < end; k++) {
    s += dout[buckets[2u * U + 1u + k] * C4 + c4];
  }
  let dst = buckets[u] * C4 + c4;
  if (params.accumulate != 0u) { s += table[dst]; }
  table[dst] = s;
}
