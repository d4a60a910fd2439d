// Column sums: Y[c] = Σ_r X[r, c] for X [R, N]. Used for bias gradients and
// any gradient of a broadcast parameter.
// Two passes when R is large: pass 1 writes partial sums [chunks, N] (one chunk
// = ROWS_PER_CHUNK rows), pass 2 sums the partials with a single chunk.
// ACCUMULATE: Y += the sums (a gradient over micro-batches) instead of Y = the sums (the last pass only).
// Workgroup (WG, LANES): x is the column, y one of LANES lanes striding over the rows.
// Dispatch: (ceil(N/WG), chunks).

struct Params {
  R: u32,
  N: u32,
  rowsPerChunk: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;

override WG: u32; // columns per workgroup
override ACCUMULATE: bool = false;
const LANES = 4u;

var<workgroup> lanes: array<f32, LANES * WG>;

@compute @workgroup_size(WG, LANES)
fn colsum(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wg: vec3u,
          @builtin(local_invocation_id) lid: vec3u) {
  let c = gid.x;
  let r0 = wg.y * p.rowsPerChunk;
  let r1 = min(p.R, r0 + p.rowsPerChunk);
  var s = 0.0;
  if (c < p.N) {
    for (var r = r0 + lid.y; r < r1; r += LANES) { s += X[r * p.N + c]; }
  }
  lanes[lid.y * WG + lid.x] = s;
  workgroupBarrier();
  if (lid.y == 0u && c < p.N) {
    let o = wg.y * p.N + c;
    let y = lanes[lid.x] + lanes[WG + lid.x] + lanes[2u * WG + lid.x] + lanes[3u * WG + lid.x];
    if (ACCUMULATE) { Y[o] += y; } else { Y[o] = y; }
  }
}
