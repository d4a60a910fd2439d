// AdamW (torch.optim.AdamW without amsgrad) over flat f32 buffers, and the global gradient
// norm for clipping (torch.nn.utils.clip_grad_norm_).
//
// sum_squares: ‖X‖₂ of X [n] in two dispatches of the same entry point. Pass 1 (FINAL off):
//   a capped number of workgroups walk the whole range in a grid-stride loop (any n, no
//   dispatch limit), each writing the sum of squares of its share to Y[group]. Pass 2 (FINAL on):
//   one workgroup adds up those partial sums and writes their square root to Y[0].
//   Dispatch: (groups) then (1).
//
// adamw: one invocation per element i of [offset, offset + count), in this order:
//   g  = G[i] · min(1, maxNorm / (‖G‖ + 1e-6))      (CLIP; G itself is left as it is)
//   p  = p − lr·wd·p                                (decoupled decay, before the update)
//   m  = β1·m + (1 − β1)·g
//   v  = β2·v + (1 − β2)·g²
//   p  = p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + eps)
//   Bias corrections, 1 − β and lr·wd come from the host, computed in float64.
//   Dispatch: grid1d(count, WG), the flat index folded into x, y.

//#include "index.wgsl"

override WG: u32; // a power of two
override FINAL: bool = false;
override CLIP: bool = false;

struct NormParams {
  n: u32,
}

struct AdamParams {
  offset: u32,
  count: u32,
  lrWd: f32,
  beta1: f32,
  oneMinusBeta1: f32,
  beta2: f32,
  oneMinusBeta2: f32,
  stepSize: f32, // lr / (1 − β1^t)
  bc2Sqrt: f32,  // √(1 − β2^t)
  eps: f32,
  maxNorm: f32,
}

// sum_squares
@group(0) @binding(0) var<uniform> np: NormParams;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;

// adamw
@group(0) @binding(0) var<uniform> ap: AdamParams;
@group(0) @binding(1) var<storage, read_write> P: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> M: array<f32>;
@group(0) @binding(4) var<storage, read_write> V: array<f32>;
@group(0) @binding(5) var<storage, read> gradNorm: array<f32>; // [1], a dummy without CLIP

var<workgroup> sums: array<f32, WG>;

@compute @workgroup_size(WG)
fn sum_squares(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) t: u32) {
  var s = 0.0;
  for (var i = wg.x * WG + t; i < np.n; i += nwg.x * WG) {
    let x = X[i];
    s += select(x * x, x, FINAL);
  }
  sums[t] = s;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k >>= 1u) {
    if (t < k) { sums[t] += sums[t + k]; }
    workgroupBarrier();
  }
  if (t == 0u) { Y[wg.x] = select(sums[0], sqrt(sums[0]), FINAL); }
}

@compute @workgroup_size(WG)
fn adamw(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let k = flat_index(gid, nwg);
  if (k >= ap.count) { return; }
  let i = ap.offset + k;
  var g = G[i];
  if (CLIP) { g *= min(1.0, ap.maxNorm / (gradNorm[0] + 1e-6)); }
  var p = P[i];
  p -= ap.lrWd * p;
  let m = ap.beta1 * M[i] + ap.oneMinusBeta1 * g;
  let v = ap.beta2 * V[i] + ap.oneMinusBeta2 * g * g;
  P[i] = p - ap.stepSize * m / (sqrt(v) / ap.bc2Sqrt + ap.eps);
  M[i] = m;
  V[i] = v;
}
