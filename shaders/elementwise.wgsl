// Elementwise kernels over a flat range of n values (any shape, same shape for every operand).
//   gelu_forward:  y = GELU(x)                (exact GELU, erf form)
//   gelu_backward: dx = dy · GELU'(x)
//   quick_gelu_forward, quick_gelu_backward: the same for QuickGELU, x·σ(1.702x)
//   add:           out = a + b
//   add_into:      acc += b                  (accumulates a gradient into a running one)
// The backward of out = a + b is the identity to both a and b, so it needs no kernel:
// callers pass dout on (or add_into it where a gradient already holds a value).
// One thread per value; the flat range folds into (x, y) workgroups (src/gpu/grid.ts).
// Dispatch: grid1d(n, WG).

//#include "gelu-math.wgsl"
//#include "index.wgsl"

struct Params {
  n: u32,
}

override WG: u32;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;          // x (*gelu_*), a (add)
@group(0) @binding(1) var<storage, read_write> acc: array<f32>;  // add_into
@group(0) @binding(2) var<storage, read_write> y: array<f32>;    // gelu_forward
@group(0) @binding(2) var<storage, read> b: array<f32>;          // dy (gelu_backward), b (add, add_into)
@group(0) @binding(3) var<storage, read_write> out: array<f32>;  // dx (gelu_backward), out (add)

@compute @workgroup_size(WG)
fn gelu_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i < p.n) { y[i] = gelu(a[i]); }
}

@compute @workgroup_size(WG)
fn gelu_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i < p.n) { out[i] = b[i] * gelu_grad(a[i]); }
}

@compute @workgroup_size(WG)
fn quick_gelu_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i < p.n) { y[i] = quick_gelu(a[i]); }
}

@compute @workgroup_size(WG)
fn quick_gelu_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i < p.n) { out[i] = b[i] * quick_gelu_grad(a[i]); }
}

@compute @workgroup_size(WG)
fn add(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i < p.n) { out[i] = a[i] + b[i]; }
}

@compute @workgroup_size(WG)
fn add_into(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i < p.n) { acc[i] += b[i]; }
}
