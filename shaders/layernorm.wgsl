// LayerNorm over the last dim D of x [R, D]:
//   y = x̂·γ + β,  x̂ = (x − mean)·rstd,  rstd = 1/sqrt(var + eps)  (biased variance).
// Forward and the input gradient run one workgroup of WG threads per row (a power of two), striding over D
// and meeting in a workgroup reduction; rows fold into (x, y) workgroups (src/gpu/grid.ts).
// Dispatch: grid1d(R, 1).
//   layernorm_forward:        y, and mean/rstd [R] saved for the backward.
//   layernorm_backward_input: dx = rstd·(g − mean_D(g) − x̂·mean_D(g·x̂)),  g = dy·γ.
//   layernorm_backward_params: per chunk of rows, partial dγ = Σ dy·x̂ and dβ = Σ dy
//     [chunks, D]; one thread per column. Dispatch: (ceil(D/WG), chunks).
//     The TS side sums the chunks with colsum (shaders/reduce.wgsl). With one chunk it writes dγ and dβ
//     themselves, added to what they hold with ACCUMULATE (a gradient over micro-batches).

//#include "index.wgsl"

struct ForwardParams {
  R: u32,
  D: u32,
  eps: f32,
}

struct InputGradParams {
  R: u32,
  D: u32,
}

struct ParamGradParams {
  R: u32,
  D: u32,
  rowsPerChunk: u32,
}

// Threads per row (forward, backward_input): 64 on GPUs; 4 on SwiftShader, whose barriers cost
// more than the strided loop saves. Threads per workgroup, one a column (backward_params).
override WG: u32;
override ACCUMULATE: bool = false; // backward_params

// One line per binding; each entry point uses the names listed beside it.
@group(0) @binding(0) var<uniform> fp: ForwardParams;                   // forward
@group(0) @binding(0) var<uniform> ip: InputGradParams;                 // backward_input
@group(0) @binding(0) var<uniform> gp: ParamGradParams;                 // backward_params
@group(0) @binding(1) var<storage, read> x: array<f32>;                 // all
@group(0) @binding(2) var<storage, read_write> mean_out: array<f32>;    // forward
@group(0) @binding(2) var<storage, read> mean: array<f32>;              // backward
@group(0) @binding(3) var<storage, read_write> rstd_out: array<f32>;    // forward
@group(0) @binding(3) var<storage, read> rstd: array<f32>;              // backward
@group(0) @binding(4) var<storage, read_write> y: array<f32>;           // forward
@group(0) @binding(4) var<storage, read> dy: array<f32>;                // backward
@group(0) @binding(5) var<storage, read> gamma: array<f32>;             // forward, backward_input
@group(0) @binding(5) var<storage, read_write> dgamma_part: array<f32>; // backward_params
@group(0) @binding(6) var<storage, read> beta: array<f32>;              // forward
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;          // backward_input
@group(0) @binding(6) var<storage, read_write> dbeta_part: array<f32>;  // backward_params

var<workgroup> partial: array<vec2f, WG>;

// Sum of v over the workgroup (two sums at once); every thread gets the total.
fn workgroup_sum(v: vec2f, lid: u32) -> vec2f {
  partial[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier(); // all have read it before the next call writes again
  return total;
}

@compute @workgroup_size(WG)
fn layernorm_forward(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
                     @builtin(local_invocation_index) lid: u32) {
  let row = flat_workgroup(wg, nwg);
  if (row >= fp.R) { return; }
  let base = row * fp.D;
  let n = f32(fp.D);
  // Two passes over values shifted by the row's first element: the sums then scale with
  // the spread of the row, not its offset, so rows far from zero keep their precision.
  let shift = x[base];
  var s = 0.0;
  for (var i = lid; i < fp.D; i += WG) { s += x[base + i] - shift; }
  let m = workgroup_sum(vec2f(s, 0.0), lid).x / n; // mean − shift
  var q = 0.0;
  for (var i = lid; i < fp.D; i += WG) {
    let d = x[base + i] - shift - m;
    q += d * d;
  }
  let r = 1.0 / sqrt(workgroup_sum(vec2f(q, 0.0), lid).x / n + fp.eps);
  for (var i = lid; i < fp.D; i += WG) {
    y[base + i] = (x[base + i] - shift - m) * r * gamma[i] + beta[i];
  }
  if (lid == 0u) {
    mean_out[row] = shift + m;
    rstd_out[row] = r;
  }
}

@compute @workgroup_size(WG)
fn layernorm_backward_input(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
                            @builtin(local_invocation_index) lid: u32) {
  let row = flat_workgroup(wg, nwg);
  if (row >= ip.R) { return; }
  let base = row * ip.D;
  let mu = mean[row];
  let r = rstd[row];
  var s = vec2f(0.0);
  for (var i = lid; i < ip.D; i += WG) {
    let g = dy[base + i] * gamma[i];
    s += vec2f(g, g * (x[base + i] - mu) * r);
  }
  let avg = workgroup_sum(s, lid) / f32(ip.D); // (mean of g, mean of g·x̂)
  for (var i = lid; i < ip.D; i += WG) {
    let g = dy[base + i] * gamma[i];
    let xhat = (x[base + i] - mu) * r;
    dx[base + i] = r * (g - avg.x - xhat * avg.y);
  }
}

@compute @workgroup_size(WG)
fn layernorm_backward_params(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wg: vec3u) {
  let c = gid.x;
  if (c >= gp.D) { return; }
  let r0 = wg.y * gp.rowsPerChunk;
  let r1 = min(gp.R, r0 + gp.rowsPerChunk);
  var sg = 0.0;
  var sb = 0.0;
  for (var r = r0; r < r1; r++) {
    let g = dy[r * gp.D + c];
    sg += g * (x[r * gp.D + c] - mean[r]) * rstd[r];
    sb += g;
  }
  let o = wg.y * gp.D + c;
  if (ACCUMULATE) {
    dgamma_part[o] += sg;
    dbeta_part[o] += sb;
  } else {
    dgamma_part[o] = sg;
    dbeta_part[o] = sb;
  }
}
