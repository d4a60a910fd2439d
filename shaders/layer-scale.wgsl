// LayerScale on a residual branch (DINOv2): out = x + γ ⊙ y over rows of D channels, γ [D].
//   layer_scale_add:      out[i] = x[i] + γ[i mod D] · y[i]
//   layer_scale_backward: dy[i] = γ[i mod D] · dout[i], and y[i] ← dout[i] · y[i] in place, whose column
//                         sums (colsum, src/nn/ops/layer-scale.ts) are dγ. The gradient of x is dout itself.
// One thread per value; the flat range folds into (x, y) workgroups (src/gpu/grid.ts).
// Dispatch: grid1d(n, WG).

//#include "index.wgsl"

struct Params {
  n: u32,
  D: u32,
}

override WG: u32;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;             // x (add), dout (backward)
@group(0) @binding(2) var<storage, read> gamma: array<f32>;         // [D]
@group(0) @binding(3) var<storage, read> y: array<f32>;             // the branch (add)
@group(0) @binding(3) var<storage, read_write> y_dout: array<f32>;  // the branch, then dout ⊙ branch (backward)
@group(0) @binding(4) var<storage, read_write> out: array<f32>;     // out (add), dy (backward)

@compute @workgroup_size(WG)
fn layer_scale_add(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i < p.n) { out[i] = x[i] + gamma[i % p.D] * y[i]; }
}

@compute @workgroup_size(WG)
fn layer_scale_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i < p.n) {
    let g = x[i];
    out[i] = gamma[i % p.D] * g;
    y_dout[i] = g * y_dout[i];
  }
}
