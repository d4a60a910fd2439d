// Softmax cross-entropy with integer labels, for logits X [B, C] and labels y [B]:
//   loss    = (1/B) Σ_b (logsumexp(X[b]) − X[b, y_b])
//   dlogits = (softmax(X[b]) − onehot(y_b)) / G
// G is B, or the whole batch when these B rows are one of its micro-batches: the gradients of the
// micro-batches then add up to the gradient of the batch's mean loss.
//   correct = #{b : argmax(X[b]) == y_b}, ties going to the lowest index (as torch.argmax)
// Pass 1 (ce_rows): one workgroup per row finds the row's max and argmax, sums exp(x − max)
// (stable for any logit scale), and writes the row's loss, whether it is correct and, with
// WITH_GRAD, its dlogits row. Pass 2 (ce_total): one workgroup sums the rows in a fixed order.
// A label outside [0, C) gives loss 0, gradient 0 and not correct: callers validate labels on
// the host; this only keeps the kernel in bounds. Labels are read as u32, so a negative i32
// label is out of range too.
// Workgroups of WG threads (src/gpu/layout.ts). Dispatch: pass 1 grid1d(B, 1) (rows folded
// into x, y); pass 2 (1).

//#include "index.wgsl"

struct Params {
  B: u32,
  C: u32,
  G: u32,
}

override WITH_GRAD: bool = true;
override WG: u32; // a power of two

@group(0) @binding(0) var<uniform> p: Params;

// ce_rows
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read_write> rowLoss: array<f32>;
@group(0) @binding(4) var<storage, read_write> rowCorrect: array<u32>;
@group(0) @binding(5) var<storage, read_write> dlogits: array<f32>; // a dummy without WITH_GRAD

// ce_total
@group(0) @binding(1) var<storage, read> lossIn: array<f32>;
@group(0) @binding(2) var<storage, read> correctIn: array<u32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> correct: array<u32>;

var<workgroup> bestVal: array<f32, WG>;
var<workgroup> bestIdx: array<u32, WG>;
var<workgroup> expSum: array<f32, WG>;
var<workgroup> lossSum: array<f32, WG>;
var<workgroup> hitSum: array<u32, WG>;

// Whether (v, i) beats (bv, bi) for argmax: larger, or equal at a lower index.
fn beats(v: f32, i: u32, bv: f32, bi: u32) -> bool {
  return v > bv || (v == bv && i < bi);
}

@compute @workgroup_size(WG)
fn ce_rows(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
           @builtin(local_invocation_index) t: u32) {
  let row = flat_workgroup(wg, nwg);
  if (row >= p.B) { return; } // the same for the whole workgroup
  let base = row * p.C;

  // Max and argmax. Each thread's first element is its lowest index, so a strict > keeps ties
  // at the lowest index; threads past the row's end hold the first element, which never loses.
  var bv = logits[base];
  var bi = 0u;
  for (var c = t; c < p.C; c += WG) {
    let x = logits[base + c];
    if (beats(x, c, bv, bi)) { bv = x; bi = c; }
  }
  bestVal[t] = bv;
  bestIdx[t] = bi;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s && beats(bestVal[t + s], bestIdx[t + s], bestVal[t], bestIdx[t])) {
      bestVal[t] = bestVal[t + s];
      bestIdx[t] = bestIdx[t + s];
    }
    workgroupBarrier();
  }
  let m = bestVal[0];

  var e = 0.0;
  for (var c = t; c < p.C; c += WG) { e += exp(logits[base + c] - m); }
  expSum[t] = e;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) { expSum[t] += expSum[t + s]; }
    workgroupBarrier();
  }
  let sum = expSum[0];

  let y = labels[row];
  let valid = y < p.C;
  if (t == 0u) {
    // logsumexp − x_y = log(Σ exp(x − m)) + (m − x_y): no large terms that cancel.
    rowLoss[row] = select(0.0, log(sum) + (m - logits[base + min(y, p.C - 1u)]), valid);
    rowCorrect[row] = select(0u, 1u, valid && bestIdx[0] == y);
  }
  if (WITH_GRAD) {
    let scale = select(0.0, 1.0 / f32(p.G), valid);
    let inv = 1.0 / sum;
    for (var c = t; c < p.C; c += WG) {
      let prob = exp(logits[base + c] - m) * inv;
      dlogits[base + c] = (prob - select(0.0, 1.0, c == y)) * scale;
    }
  }
}

@compute @workgroup_size(WG)
fn ce_total(@builtin(local_invocation_index) t: u32) {
  var l = 0.0;
  var h = 0u;
  for (var r = t; r < p.B; r += WG) {
    l += lossIn[r];
    h += correctIn[r];
  }
  lossSum[t] = l;
  hitSum[t] = h;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) {
      lossSum[t] += lossSum[t + s];
      hitSum[t] += hitSum[t + s];
    }
    workgroupBarrier();
  }
  if (t == 0u) {
    loss[0] = lossSum[0] / f32(p.B);
    correct[0] = hitSum[0];
  }
}
