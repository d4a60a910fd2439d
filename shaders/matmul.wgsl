// Batched matrix product C[b] = op(A[b]) · op(B[b]) with optional bias and GELU epilogues.
//   op(A) is [M, K]: A is stored [M, K], or [K, M] when TRANS_A.
//   op(B) is [K, N]: B is stored [K, N], or [N, K] when TRANS_B (a Linear weight [out, in]).
//   Batch b starts at b*strideA in A (etc.); a stride of 0 shares the matrix across the batch.
// A WGxWG workgroup computes a TILE x TILE tile of C (TILE = 4·WG); each thread owns 4x4
// outputs at rows ty + WG·i and cols tx + WG·j (strided, so workgroup-memory reads are
// conflict-free). K is walked in steps of 16 through workgroup memory. Any M, N, K:
// edges are zero-padded.
// EPILOGUE: 0 none; 1 + bias[n]; 2 + bias[n] then GELU, with U receiving the pre-activation.
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
}

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override EPILOGUE: u32 = 0u;

override WG: u32 = 16u;
override TILE: u32 = 4u * WG;
const TK = 16u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;       // [N] (a dummy without a bias)
@group(0) @binding(4) var<storage, read_write> C: array<f32>;
@group(0) @binding(5) var<storage, read_write> U: array<f32>;    // like C (a dummy without GELU)

var<workgroup> As: array<f32, TK * TILE>; // As[k * TILE + m]
var<workgroup> Bs: array<f32, TK * TILE>; // Bs[k * TILE + n]

fn load_a(base: u32, m: u32, k: u32) -> f32 {
  if (m >= p.M || k >= p.K) { return 0.0; }
  if (TRANS_A) { return A[base + k * p.M + m]; }
  return A[base + m * p.K + k];
}

fn load_b(base: u32, k: u32, n: u32) -> f32 {
  if (k >= p.K || n >= p.N) { return 0.0; }
  if (TRANS_B) { return B[base + n * p.K + k]; }
  return B[base + k * p.N + n];
}

// The 4x4 block of op(A)·op(B) this thread owns.
fn tile_product(wg: vec3u, lid: vec3u, t: u32) -> array<array<f32, 4>, 4> {
  let row0 = wg.y * TILE;
  let col0 = wg.x * TILE;
  let aBase = wg.z * p.strideA;
  let bBase = wg.z * p.strideB;
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    for (var l = 0u; l < TK * TILE / (WG * WG); l++) {
      let idx = t + WG * WG * l;
      // Consecutive threads read consecutive addresses of the stored layout.
      var m = idx / TK;
      var ka = idx % TK;
      if (TRANS_A) { ka = idx / TILE; m = idx % TILE; }
      As[ka * TILE + m] = load_a(aBase, row0 + m, k0 + ka);
      var n = idx % TILE;
      var kb = idx / TILE;
      if (TRANS_B) { n = idx / TK; kb = idx % TK; }
      Bs[kb * TILE + n] = load_b(bBase, k0 + kb, col0 + n);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) { a[i] = As[kk * TILE + lid.y + WG * i]; }
      for (var j = 0u; j < 4u; j++) { b[j] = Bs[kk * TILE + lid.x + WG * j]; }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) { acc[i][j] = fma(a[i], b[j], acc[i][j]); }
      }
    }
    workgroupBarrier();
  }
  return acc;
}

fn store(wg: vec3u, lid: vec3u, acc: array<array<f32, 4>, 4>) {
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) {
      let r = wg.y * TILE + lid.y + WG * i;
      let c = wg.x * TILE + lid.x + WG * j;
      if (r < p.M && c < p.N) {
        let o = wg.z * p.strideC + r * p.N + c;
        var v = acc[i][j];
        if (EPILOGUE >= 1u) { v += bias[c]; }
        if (EPILOGUE == 2u) {
          U[o] = v;
          v = gelu(v);
        }
        C[o] = v;
      }
    }
  }
}

@compute @workgroup_size(WG, WG)
fn matmul(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u,
          @builtin(local_invocation_index) t: u32) {
  store(wg, lid, tile_product(wg, lid, t));
}
