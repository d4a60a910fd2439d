// Batched matrix product C[b] = op(A[b]) · op(B[b]) with optional bias and GELU epilogues.
//   op(A) is [M, K]: A is stored [M, K], or [K, M] when transA.
//   op(B) is [K, N]: B is stored [K, N], or [N, K] when transB (a Linear weight [out, in]).
//   Batch b starts at b*strideA in A (etc.); a stride of 0 shares the matrix across the batch.
// A WGxWG workgroup computes a TILE x TILE tile of C (TILE = 4·RB·WG), walking K in steps
// of TK through workgroup memory. Each thread owns RB x RB blocks of 4x4 outputs: block
// (i, j) holds rows ty + WG·(4i + r) and cols tx + WG·(4j + c), r, c < 4 (strided, so
// workgroup-memory reads are conflict-free and stores coalesce). Any M, N, K: edges are
// zero-padded.
// The accumulators are mat4x4 values indexed only by constants, so they stay in registers:
// a dynamic index into a private array (a loop over them) turns every access into memory
// traffic, per lane on a CPU implementation such as SwiftShader.
// RB is 1, 2 or 4. GPUs: WG 16, RB 1. SwiftShader runs four invocations per SIMD group and
// reads workgroup memory by per-lane gathers, so it wants few threads with many outputs
// each (WG 4, RB 4: 32 reads per 256 multiply-adds instead of 8 per 16).
// epilogue: 0 none; 1 + bias[n]; 2 + bias[n] then GELU, with U receiving the pre-activation;
// 3 as 2 with QuickGELU.
// accumulate: C += the result (a gradient summed over micro-batches) instead of C = the result.
// The transposes, the epilogue and accumulate are uniforms, not override constants: one pipeline
// serves every product of a model (forward, both backward products, with and without epilogue,
// written or accumulated), because a CPU implementation such as SwiftShader takes seconds to
// compile each pipeline of this kernel.
// They change only index arithmetic and the stores, not the inner loop.
// Dispatch: (ceil(N/TILE), ceil(M/TILE), batch).
// The backward pass is the same kernel with other transposes (see src/nn/ops/matmul.ts).

//#include "gelu-math.wgsl"

struct Params {
  M: u32,
  N: u32,
  K: u32,
  strideA: u32,
  strideB: u32,
  strideC: u32,
  transA: u32,
  transB: u32,
  epilogue: u32,
  accumulate: u32,
}

override WG: u32;
override RB: u32 = 1u;
override TILE: u32 = 4u * RB * WG;
const TK = 16u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;       // [N] (a dummy without a bias)
@group(0) @binding(4) var<storage, read_write> C: array<f32>;
@group(0) @binding(5) var<storage, read_write> U: array<f32>;    // like C (a dummy without GELU)

var<workgroup> As: array<f32, TK * TILE>; // As[k * TILE + m]
var<workgroup> Bs: array<f32, TK * TILE>; // Bs[k * TILE + n]

// Branch-free bounds checks: an index past the end reads some in-bounds value
// (WGSL robustness), which the select then discards.
fn load_a(base: u32, m: u32, k: u32) -> f32 {
  let i = select(base + m * p.K + k, base + k * p.M + m, p.transA != 0u);
  return select(0.0, A[i], m < p.M && k < p.K);
}

fn load_b(base: u32, k: u32, n: u32) -> f32 {
  let i = select(base + k * p.N + n, base + n * p.K + k, p.transB != 0u);
  return select(0.0, B[i], k < p.K && n < p.N);
}

// Copies the [TK x TILE] slices of op(A) and op(B) at k0 into workgroup memory.
// Consecutive threads read consecutive addresses of the stored layout.
fn load_tiles(wg: vec3u, t: u32, k0: u32) {
  let row0 = wg.y * TILE;
  let col0 = wg.x * TILE;
  let aBase = wg.z * p.strideA;
  let bBase = wg.z * p.strideB;
  let transA = p.transA != 0u;
  let transB = p.transB != 0u;
  for (var l = 0u; l < TK * TILE / (WG * WG); l++) {
    let idx = t + WG * WG * l;
    let m = select(idx / TK, idx % TILE, transA);
    let ka = select(idx % TK, idx / TILE, transA);
    As[ka * TILE + m] = load_a(aBase, row0 + m, k0 + ka);
    let n = select(idx % TILE, idx / TK, transB);
    let kb = select(idx / TILE, idx % TK, transB);
    Bs[kb * TILE + n] = load_b(bBase, k0 + kb, col0 + n);
  }
}

// op(A) at row m, k .. k+3.
fn a_col(k: u32, m: u32) -> vec4f {
  return vec4f(As[k * TILE + m], As[(k + 1u) * TILE + m], As[(k + 2u) * TILE + m], As[(k + 3u) * TILE + m]);
}

// op(B) at row k, cols c + WG·j.
fn b_row(k: u32, c: u32) -> vec4f {
  let o = k * TILE + c;
  return vec4f(Bs[o], Bs[o + WG], Bs[o + 2u * WG], Bs[o + 3u * WG]);
}

// Column i: op(A) at row r + WG·i, k .. k+3.
fn a_block(k: u32, r: u32) -> mat4x4f {
  return mat4x4f(a_col(k, r), a_col(k, r + WG), a_col(k, r + 2u * WG), a_col(k, r + 3u * WG));
}

// Column kk: op(B) at row k + kk, cols c + WG·j.
fn b_block(k: u32, c: u32) -> mat4x4f {
  return mat4x4f(b_row(k, c), b_row(k + 1u, c), b_row(k + 2u, c), b_row(k + 3u, c));
}

// One row of blocks: acc[j][i][jj] += Σ_kk a[i][kk]·b[j][kk][jj].
fn mac_row(acc: ptr<function, array<mat4x4f, 4>>, a: mat4x4f, b: ptr<function, array<mat4x4f, 4>>) {
  (*acc)[0] += (*b)[0] * a;
  if (RB > 1u) { (*acc)[1] += (*b)[1] * a; }
  if (RB > 2u) {
    (*acc)[2] += (*b)[2] * a;
    (*acc)[3] += (*b)[3] * a;
  }
}

// Row r of a block: cols c + WG·j.
fn store_row(z: u32, r: u32, c: u32, v: vec4f) {
  if (r >= p.M) { return; }
  for (var j = 0u; j < 4u; j++) {
    let n = c + WG * j;
    if (n < p.N) {
      let o = z * p.strideC + r * p.N + n;
      var x = v[j];
      if (p.epilogue >= 1u) { x += bias[n]; }
      if (p.epilogue >= 2u) {
        U[o] = x;
        if (p.epilogue == 3u) { x = quick_gelu(x); } else { x = gelu(x); }
      }
      if (p.accumulate != 0u) { x = C[o] + x; }
      C[o] = x;
    }
  }
}

fn store_block(z: u32, r: u32, c: u32, acc: mat4x4f) {
  store_row(z, r, c, acc[0]);
  store_row(z, r + WG, c, acc[1]);
  store_row(z, r + 2u * WG, c, acc[2]);
  store_row(z, r + 3u * WG, c, acc[3]);
}

fn store_blocks(z: u32, r: u32, c: u32, acc: ptr<function, array<mat4x4f, 4>>) {
  store_block(z, r, c, (*acc)[0]);
  if (RB > 1u) { store_block(z, r, c + 4u * WG, (*acc)[1]); }
  if (RB > 2u) {
    store_block(z, r, c + 8u * WG, (*acc)[2]);
    store_block(z, r, c + 12u * WG, (*acc)[3]);
  }
}

@compute @workgroup_size(WG, WG)
fn matmul(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u,
          @builtin(local_invocation_index) t: u32) {
  // acc0..acc3: the rows of blocks; accI[j] is block (I, j).
  var acc0: array<mat4x4f, 4>;
  var acc1: array<mat4x4f, 4>;
  var acc2: array<mat4x4f, 4>;
  var acc3: array<mat4x4f, 4>;
  let r = lid.y;
  let c = lid.x;
  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    load_tiles(wg, t, k0);
    workgroupBarrier();
    for (var k = 0u; k < TK; k += 4u) {
      var b: array<mat4x4f, 4>;
      b[0] = b_block(k, c);
      if (RB > 1u) { b[1] = b_block(k, c + 4u * WG); }
      if (RB > 2u) {
        b[2] = b_block(k, c + 8u * WG);
        b[3] = b_block(k, c + 12u * WG);
      }
      mac_row(&acc0, a_block(k, r), &b);
      if (RB > 1u) { mac_row(&acc1, a_block(k, r + 4u * WG), &b); }
      if (RB > 2u) {
        mac_row(&acc2, a_block(k, r + 8u * WG), &b);
        mac_row(&acc3, a_block(k, r + 12u * WG), &b);
      }
    }
    workgroupBarrier();
  }
  let row = wg.y * TILE + r;
  let col = wg.x * TILE + c;
  store_blocks(wg.z, row, col, &acc0);
  if (RB > 1u) { store_blocks(wg.z, row + 4u * WG, col, &acc1); }
  if (RB > 2u) {
    store_blocks(wg.z, row + 8u * WG, col, &acc2);
    store_blocks(wg.z, row + 12u * WG, col, &acc3);
  }
}
