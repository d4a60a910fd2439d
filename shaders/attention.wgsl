// Multi-head attention O = softmax(Q·Kᵀ/√hd)·V per batch element and head, with Q taken from
// one fused projection and K, V from another: StochCA binds the student's own projection as
// both for self-attention, and the frozen teacher's as KV for cross-attention.
// Layouts (row-major, D = H·HD; the kernels address them in vec4s, HD4 = HD/4 per head row):
//   Q, KV  [B, N, 3D]: token (b, n) holds q at channels [0, D), k at [D, 2D), v at [2D, 3D);
//                      head h uses channels h·HD..(h+1)·HD within each third.
//   O, dO  [B, N, D], heads merged.    LSE, DELTA  [B, H, N].
// One invocation owns one row (a query row in the forward and dQ kernels, a key row in the
// dK/dV kernel); a workgroup holds WG rows of one (head, batch) and walks the other side in
// tiles of TK rows staged in workgroup memory, so each row needs O(HD) memory whatever N is.
// Scores are kept in base 2: the row's q (or k) is pre-multiplied by log2(e)/√hd, so exp2
// replaces exp and LSE is converted back to natural log at the end.
// Dispatch: (ceil(N/WG), H, B).
// Backward (FlashAttention-2): probabilities are recomputed from LSE; DELTA_i = dO_i·O_i.
//   dQ_i = scale·Σ_j P_ij (dO_i·V_j − DELTA_i) K_j          (attention_backward_dq, writes DELTA)
//   dK_j = scale·Σ_i P_ij (dO_i·V_j − DELTA_i) Q_i,  dV_j = Σ_i P_ij dO_i   (attention_backward_dkv)
// The gradient G is [B, N, 3D]; each kernel writes only its own channels (q, or k and v).
// Class token (attention_class_token): PROBS_j = exp(q_0·k_j·scale − LSE_0) [B, H, N], the class
// token's row of the probabilities, recomputed like the backward's from the forward's LSE, so it
// takes one pass with one invocation per key and never a B·H·N·N matrix.

struct Params {
  N: u32,
  H: u32,
  scale: f32,   // 1/√hd
}

override HD: u32 = 64u;   // head size, a multiple of 4, at most 4·MAX_HD4
override WG: u32;         // rows per workgroup
override TK: u32 = 32u;   // rows per staged tile, at most MAX_TK
override HD4: u32 = HD / 4u;

// Private arrays need a constant size: rows are held in MAX_HD4 vec4s, of which loops use HD4.
const MAX_HD4 = 32u;
const MAX_TK = 64u;
const LOG2E = 1.4426950408889634;
const NEG_BIG = -3.0e38;  // running max before the first score

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<vec4f>;
@group(0) @binding(2) var<storage, read> KV: array<vec4f>;
// Forward only.
@group(0) @binding(3) var<storage, read_write> O: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> LSE: array<f32>;
// Backward only.
@group(0) @binding(3) var<storage, read> dO: array<vec4f>;
@group(0) @binding(4) var<storage, read> lseIn: array<f32>;
@group(0) @binding(5) var<storage, read_write> G: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> DELTA: array<f32>;   // dQ kernel: written
@group(0) @binding(6) var<storage, read> deltaIn: array<f32>;       // dK/dV kernel: read
@group(0) @binding(7) var<storage, read> Ofwd: array<vec4f>;        // dQ kernel: the forward's O
// Class token only (and lseIn above).
@group(0) @binding(3) var<storage, read_write> PROBS: array<f32>;

// Tiles of TK rows × HD: K and V (forward, dQ) or Q and dO (dK/dV).
var<workgroup> tileA: array<vec4f, TK * HD4>;
var<workgroup> tileB: array<vec4f, TK * HD4>;

// First vec4 of token (b, n) in a [B, N, 3D] tensor.
fn qkv_row(b: u32, n: u32) -> u32 {
  return (b * p.N + n) * 3u * p.H * HD4;
}

// First vec4 of token (b, n) in a [B, N, D] tensor.
fn out_row(b: u32, n: u32) -> u32 {
  return (b * p.N + n) * p.H * HD4;
}

// Index of (b, h, n) in a [B, H, N] tensor.
fn row_stat(b: u32, h: u32, n: u32) -> u32 {
  return (b * p.H + h) * p.N + n;
}

// The row an invocation owns in a dispatch (ceil(N/WG), H, B): token n of head h of batch
// element b. Invocations past the last token (not live) only help stage the tiles.
struct Row {
  b: u32,
  h: u32,
  n: u32,
  live: bool,
}

fn row_of(wg: vec3u, t: u32) -> Row {
  let n = wg.x * WG + t;
  return Row(wg.z, wg.y, n, n < p.N);
}

// Stages keys and values r0..min(r0+TK, N) of head h; consecutive threads read consecutive vec4s.
// The kernels read only the rows staged (rn = min(TK, N − r0)).
fn stage_kv(b: u32, h: u32, r0: u32, t: u32) {
  for (var i = t; i < min(TK, p.N - r0) * HD4; i += WG) {
    let at = qkv_row(b, r0 + i / HD4) + (p.H + h) * HD4 + i % HD4;
    tileA[i] = KV[at];
    tileB[i] = KV[at + p.H * HD4];
  }
}

// Stages queries and their output gradients r0..min(r0+TK, N) of head h.
fn stage_qdo(b: u32, h: u32, r0: u32, t: u32) {
  for (var i = t; i < min(TK, p.N - r0) * HD4; i += WG) {
    let r = r0 + i / HD4;
    tileA[i] = Q[qkv_row(b, r) + h * HD4 + i % HD4];
    tileB[i] = dO[out_row(b, r) + h * HD4 + i % HD4];
  }
}

// O and LSE. Online softmax: a running max m and sum l per row; after each tile's scores raise
// the max, l and the accumulator are rescaled by exp2(m_old − m_new), so every exponent is ≤ 0.
@compute @workgroup_size(WG)
fn attention_forward(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let row = row_of(wg, t);
  let scale2 = p.scale * LOG2E;
  var q: array<vec4f, MAX_HD4>;
  var acc: array<vec4f, MAX_HD4>;
  var s: array<f32, MAX_TK>;
  if (row.live) {
    let at = qkv_row(row.b, row.n) + row.h * HD4;
    for (var d = 0u; d < HD4; d++) { q[d] = Q[at + d] * scale2; }
  }
  var m = NEG_BIG;
  var l = 0.0;
  for (var r0 = 0u; r0 < p.N; r0 += TK) {
    stage_kv(row.b, row.h, r0, t);
    workgroupBarrier();
    let rn = min(TK, p.N - r0);
    var mt = m;
    for (var j = 0u; j < rn; j++) {
      var x = 0.0;
      for (var d = 0u; d < HD4; d++) { x += dot(q[d], tileA[j * HD4 + d]); }
      s[j] = x;
      mt = max(mt, x);
    }
    let c = exp2(m - mt);
    l *= c;
    for (var d = 0u; d < HD4; d++) { acc[d] *= c; }
    for (var j = 0u; j < rn; j++) {
      let pj = exp2(s[j] - mt);
      l += pj;
      for (var d = 0u; d < HD4; d++) { acc[d] += pj * tileB[j * HD4 + d]; }
    }
    m = mt;
    workgroupBarrier();
  }
  if (row.live) {
    let at = out_row(row.b, row.n) + row.h * HD4;
    for (var d = 0u; d < HD4; d++) { O[at + d] = acc[d] / l; }
    LSE[row_stat(row.b, row.h, row.n)] = (m + log2(l)) / LOG2E;
  }
}

// dQ into the q channels of G, and DELTA for the dK/dV kernel.
@compute @workgroup_size(WG)
fn attention_backward_dq(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let row = row_of(wg, t);
  let scale2 = p.scale * LOG2E;
  var q: array<vec4f, MAX_HD4>;
  var g: array<vec4f, MAX_HD4>;
  var acc: array<vec4f, MAX_HD4>;
  var lse2 = 0.0;
  var delta = 0.0;
  if (row.live) {
    let at = qkv_row(row.b, row.n) + row.h * HD4;
    let ao = out_row(row.b, row.n) + row.h * HD4;
    for (var d = 0u; d < HD4; d++) {
      q[d] = Q[at + d] * scale2;
      g[d] = dO[ao + d];
      delta += dot(g[d], Ofwd[ao + d]);
    }
    lse2 = lseIn[row_stat(row.b, row.h, row.n)] * LOG2E;
    DELTA[row_stat(row.b, row.h, row.n)] = delta;
  }
  for (var r0 = 0u; r0 < p.N; r0 += TK) {
    stage_kv(row.b, row.h, r0, t);
    workgroupBarrier();
    let rn = min(TK, p.N - r0);
    for (var j = 0u; j < rn; j++) {
      var x = 0.0;
      var dp = 0.0;
      for (var d = 0u; d < HD4; d++) {
        x += dot(q[d], tileA[j * HD4 + d]);
        dp += dot(g[d], tileB[j * HD4 + d]);
      }
      let ds = exp2(x - lse2) * (dp - delta);
      for (var d = 0u; d < HD4; d++) { acc[d] += ds * tileA[j * HD4 + d]; }
    }
    workgroupBarrier();
  }
  if (row.live) {
    let at = qkv_row(row.b, row.n) + row.h * HD4;
    for (var d = 0u; d < HD4; d++) { G[at + d] = acc[d] * p.scale; }
  }
}

// dK and dV into the k and v channels of G; one invocation per key row, queries in tiles.
@compute @workgroup_size(WG)
fn attention_backward_dkv(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let row = row_of(wg, t);
  let scale2 = p.scale * LOG2E;
  var k: array<vec4f, MAX_HD4>;
  var v: array<vec4f, MAX_HD4>;
  var dk: array<vec4f, MAX_HD4>;
  var dv: array<vec4f, MAX_HD4>;
  let at = qkv_row(row.b, row.n) + (p.H + row.h) * HD4;
  if (row.live) {
    for (var d = 0u; d < HD4; d++) {
      k[d] = KV[at + d] * scale2;
      v[d] = KV[at + p.H * HD4 + d];
    }
  }
  for (var r0 = 0u; r0 < p.N; r0 += TK) {
    stage_qdo(row.b, row.h, r0, t);
    workgroupBarrier();
    let rn = min(TK, p.N - r0);
    for (var i = 0u; i < rn; i++) {
      var x = 0.0;
      var dp = 0.0;
      for (var d = 0u; d < HD4; d++) {
        x += dot(k[d], tileA[i * HD4 + d]);
        dp += dot(v[d], tileB[i * HD4 + d]);
      }
      let r = row_stat(row.b, row.h, r0 + i);
      let pij = exp2(x - lseIn[r] * LOG2E);
      let ds = pij * (dp - deltaIn[r]);
      for (var d = 0u; d < HD4; d++) {
        dv[d] += pij * tileB[i * HD4 + d];
        dk[d] += ds * tileA[i * HD4 + d];
      }
    }
    workgroupBarrier();
  }
  if (row.live) {
    for (var d = 0u; d < HD4; d++) {
      G[at + d] = dk[d] * p.scale;
      G[at + p.H * HD4 + d] = dv[d];
    }
  }
}

// The class token's attention probabilities over all keys, one invocation per key row.
@compute @workgroup_size(WG)
fn attention_class_token(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let row = row_of(wg, t);
  if (!row.live) { return; }
  let aq = qkv_row(row.b, 0u) + row.h * HD4;
  let ak = qkv_row(row.b, row.n) + (p.H + row.h) * HD4;
  let scale2 = p.scale * LOG2E;
  var x = 0.0;
  for (var d = 0u; d < HD4; d++) { x += dot(Q[aq + d] * scale2, KV[ak + d]); }
  PROBS[row_stat(row.b, row.h, row.n)] = exp2(x - lseIn[row_stat(row.b, row.h, 0u)] * LOG2E);
}
