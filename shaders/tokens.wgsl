// Token bookkeeping around the encoder: the class token and the position embedding in
// front of it, and taking the class token out after it. H is [B, N, D] with N = P + 1
// tokens, token 0 the class token.
//   embed_tokens:            H[b, 0] = cls + pos[0];  H[b, 1+i] = X[b, i] + pos[1+i]
//   embed_tokens_backward:   dPos[n] = Σ_b dH[b, n];  dCls = dPos[0];  dX[b, i] = dH[b, 1+i]
//   gather_class_token:      Y[b] = H[b, 0]
//   gather_class_token_backward: dH[b, 0] = dY[b], zero elsewhere
// One thread per output element (the backward of embed_tokens: per (n, d), looping over
// the batch, so dH is read once). Dispatch: grid1d(count, WG).

//#include "index.wgsl"

struct Params {
  B: u32,
  N: u32,
  D: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

override WG: u32;

// ---- embed_tokens -------------------------------------------------------------

@group(0) @binding(1) var<storage, read> X: array<f32>;        // [B, P, D] (a dummy when P = 0)
@group(0) @binding(2) var<storage, read> cls: array<f32>;      // [D]
@group(0) @binding(3) var<storage, read> pos: array<f32>;      // [N, D]
@group(0) @binding(4) var<storage, read_write> H: array<f32>;  // [B, N, D]

@compute @workgroup_size(WG)
fn embed_tokens(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = flat_index(gid, nwg);
  let ND = p.N * p.D;
  if (idx >= p.B * ND) { return; }
  let b = idx / ND;
  let r = idx % ND;  // n·D + d
  var v: f32;
  if (r < p.D) {
    v = cls[r];
  } else {
    v = X[b * (ND - p.D) + r - p.D];
  }
  H[idx] = v + pos[r];
}

// ---- embed_tokens_backward ------------------------------------------------------

@group(0) @binding(1) var<storage, read> dH: array<f32>;          // [B, N, D]
@group(0) @binding(2) var<storage, read_write> dX: array<f32>;    // [B, P, D] (a dummy when P = 0)
@group(0) @binding(3) var<storage, read_write> dCls: array<f32>;  // [D]
@group(0) @binding(4) var<storage, read_write> dPos: array<f32>;  // [N, D]

@compute @workgroup_size(WG)
fn embed_tokens_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flat_index(gid, nwg);  // n·D + d
  let ND = p.N * p.D;
  if (r >= ND) { return; }
  var s = 0.0;
  for (var b = 0u; b < p.B; b++) {
    let g = dH[b * ND + r];
    s += g;
    if (r >= p.D) { dX[b * (ND - p.D) + r - p.D] = g; }
  }
  dPos[r] = s;
  if (r < p.D) { dCls[r] = s; }
}

// ---- gather_class_token ----------------------------------------------------------

@group(0) @binding(1) var<storage, read> Hin: array<f32>;         // [B, N, D]
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;     // [B, D]

@compute @workgroup_size(WG)
fn gather_class_token(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = flat_index(gid, nwg);
  if (idx >= p.B * p.D) { return; }
  Y[idx] = Hin[(idx / p.D) * p.N * p.D + idx % p.D];
}

// ---- gather_class_token_backward -------------------------------------------------

@group(0) @binding(1) var<storage, read> dY: array<f32>;          // [B, D]
@group(0) @binding(2) var<storage, read_write> dHout: array<f32>; // [B, N, D]

@compute @workgroup_size(WG)
fn gather_class_token_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = flat_index(gid, nwg);
  let ND = p.N * p.D;
  if (idx >= p.B * ND) { return; }
  let r = idx % ND;
  var v = 0.0;
  if (r < p.D) { v = dY[(idx / ND) * p.D + r]; }
  dHout[idx] = v;
}
