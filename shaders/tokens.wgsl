// Token bookkeeping around the encoder: the class token, register tokens and the position
// embedding in front of it, and taking the class token out after it. H is [B, N, D] with
// N = 1 + R + P tokens: token 0 the class token, then R registers, then the P patches. The
// position embedding [1 + P, D] is the class token's and the patches' (registers have none).
//   embed_tokens:            H[b, 0] = cls + pos[0];  H[b, 1+r] = reg[r];  H[b, 1+R+i] = X[b, i] + pos[1+i]
//   embed_tokens_backward:   dCls = dPos[0] = Σ_b dH[b, 0];  dReg[r] = Σ_b dH[b, 1+r];
//                            dPos[1+i] = Σ_b dH[b, 1+R+i];  dX[b, i] = dH[b, 1+R+i]
//                            (ACCUMULATE: dCls, dPos and dReg += the sums, gradients over micro-batches;
//                            CLASS_POS false: dPos[0] = 0, the class token's position is not trained)
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

struct EmbedParams {
  B: u32,
  N: u32,  // 1 + R + P
  D: u32,
  R: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(0) var<uniform> e: EmbedParams;

override WG: u32;
override ACCUMULATE: bool = false; // embed_tokens_backward
override CLASS_POS: bool = true;    // embed_tokens_backward: false leaves dPos[0] zero

// ---- embed_tokens -------------------------------------------------------------

@group(0) @binding(1) var<storage, read> X: array<f32>;        // [B, P, D] (a dummy when P = 0)
@group(0) @binding(2) var<storage, read> cls: array<f32>;      // [D]
@group(0) @binding(3) var<storage, read> pos: array<f32>;      // [1 + P, D]
@group(0) @binding(4) var<storage, read_write> H: array<f32>;  // [B, N, D]
@group(0) @binding(5) var<storage, read> reg: array<f32>;      // [R, D] (a dummy when R = 0)

@compute @workgroup_size(WG)
fn embed_tokens(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = flat_index(gid, nwg);
  let ND = e.N * e.D;
  if (idx >= e.B * ND) { return; }
  let b = idx / ND;
  let r = idx % ND;  // n·D + d
  let first = (1u + e.R) * e.D;  // the first patch's r
  var v: f32;
  if (r < e.D) {
    v = cls[r] + pos[r];
  } else if (r < first) {
    v = reg[r - e.D];
  } else {
    v = X[b * (ND - first) + r - first] + pos[r - e.R * e.D];
  }
  H[idx] = v;
}

// ---- embed_tokens_backward ------------------------------------------------------

@group(0) @binding(1) var<storage, read> dH: array<f32>;          // [B, N, D]
@group(0) @binding(2) var<storage, read_write> dX: array<f32>;    // [B, P, D] (a dummy when P = 0)
@group(0) @binding(3) var<storage, read_write> dCls: array<f32>;  // [D]
@group(0) @binding(4) var<storage, read_write> dPos: array<f32>;  // [1 + P, D]
@group(0) @binding(5) var<storage, read_write> dReg: array<f32>;  // [R, D] (a dummy when R = 0)

@compute @workgroup_size(WG)
fn embed_tokens_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flat_index(gid, nwg);  // n·D + d
  let ND = e.N * e.D;
  if (r >= ND) { return; }
  let first = (1u + e.R) * e.D;
  var s = 0.0;
  for (var b = 0u; b < e.B; b++) {
    let g = dH[b * ND + r];
    s += g;
    if (r >= first) { dX[b * (ND - first) + r - first] = g; }
  }
  if (r < e.D) {
    let ds = select(0.0, s, CLASS_POS);
    if (ACCUMULATE) {
      dCls[r] += s;
      dPos[r] += ds;
    } else {
      dCls[r] = s;
      dPos[r] = ds;
    }
  } else if (r < first) {
    if (ACCUMULATE) { dReg[r - e.D] += s; } else { dReg[r - e.D] = s; }
  } else {
    let i = r - e.R * e.D;
    if (ACCUMULATE) { dPos[i] += s; } else { dPos[i] = s; }
  }
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
