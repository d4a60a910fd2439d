// Input normalisation: RGBA8 pixels (one u32 per pixel, byte 0 = R ... byte 3 = A, as a
// canvas ImageData viewed as a Uint32Array on a little-endian host) to the float images
// the model takes, X[b, c, y, x] = (v / 255 - mean[c]) / std[c] for c = R, G, B (alpha dropped).
// pixels: [B, H, W] u32; X: [B, 3, H, W] f32. One thread per pixel.
// Dispatch: grid1d(B·H·W, WG).

//#include "index.wgsl"

struct Params {
  count: u32,  // B·H·W
  HW: u32,
  mean_r: f32,
  mean_g: f32,
  mean_b: f32,
  std_r: f32,
  std_g: f32,
  std_b: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> pixels: array<u32>;
@group(0) @binding(2) var<storage, read_write> X: array<f32>;

override WG: u32;

@compute @workgroup_size(WG)
fn normalize_images(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = flat_index(gid, nwg);
  if (idx >= p.count) { return; }
  let rgb = unpack4x8unorm(pixels[idx]).xyz;  // byte k / 255 in component k
  let v = (rgb - vec3f(p.mean_r, p.mean_g, p.mean_b)) / vec3f(p.std_r, p.std_g, p.std_b);
  let o = (idx / p.HW) * 3u * p.HW + idx % p.HW;
  X[o] = v.x;
  X[o + p.HW] = v.y;
  X[o + 2u * p.HW] = v.z;
}
