// Patch embedding, Conv2d(C, D, kernel = stride = p), as im2col + matmul.
// im2col copies images X [B, C, H, W] into patches [B·P, C·p·p]: row b·P + i is patch i
// of image b, patches in row-major (h, w) order over the (H/p) x (W/p) grid; within a row
// the column order is (c, kh, kw), that of a conv weight [D, C, p, p] flattened to
// [D, C·p·p], so tokens = patches · Wᵀ + bias (src/nn/ops/patch-embed.ts).
// One thread per patch element, consecutive threads writing consecutive addresses.
// Dispatch: grid1d(B·P·C·p·p, WG).
// The backward pass is matmul's (weight and bias gradients from the saved patches).

//#include "index.wgsl"

struct Params {
  count: u32,   // B·P·C·p·p
  C: u32,
  H: u32,
  W: u32,
  side: u32,   // p, the patch side (`patch` is a WGSL reserved word)
  gridW: u32,  // W / p, patches per grid row
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> patches: array<f32>;

override WG: u32;

@compute @workgroup_size(WG)
fn im2col(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = flat_index(gid, nwg);
  if (idx >= p.count) { return; }
  let pp = p.side * p.side;
  let cols = p.C * pp;
  let row = idx / cols;
  let col = idx % cols;
  let P = (p.H / p.side) * p.gridW;
  let b = row / P;
  let i = row % P;
  let c = col / pp;
  let kh = (col % pp) / p.side;
  let kw = col % p.side;
  let y = (i / p.gridW) * p.side + kh;
  let x = (i % p.gridW) * p.side + kw;
  patches[idx] = X[((b * p.C + c) * p.H + y) * p.W + x];
}
