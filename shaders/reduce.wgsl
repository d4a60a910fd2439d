// Column sums: Y[c] = Σ_r X[r, c] for X [R, N]. Used for bias gradients and
// any gradient of a broadcast parameter.
// Two passes when R is large: pass 1 writes partial sums [chunks, N] (one chunk
// = ROWS_PER_CHUNK rows), pass 2 sums the partials with a single chunk.
// Workgroup (64, 4): x is the column, y one of 4 lanes striding over the rows.
// Dispatch: (ceil(N/64), chunks).

struct Params {
  R: u32,
  N: u32,
  rowsPerChunk: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;

var<workgroup> lanes: array<f32, 256>;

@compute @workgroup_size(64, 4)
fn colsum(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let c = wg.x * 64u + lid.x;
  let r0 = wg.y * p.rowsPerChunk;
  let r1 = min(p.R, r0 + p.rowsPerChunk);
  var s = 0.0;
  if (c < p.N) {
    for (var r = r0 + lid.y; r < r1; r += 4u) { s += X[r * p.N + c]; }
  }
  lanes[lid.y * 64u + lid.x] = s;
  workgroupBarrier();
  if (lid.y == 0u && c < p.N) {
    Y[wg.y * p.N + c] = lanes[lid.x] + lanes[64u + lid.x] + lanes[128u + lid.x] + lanes[192u + lid.x];
  }
}
