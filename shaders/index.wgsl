// Flat indices of the dispatches src/gpu/grid.ts shapes: grid1d folds a range of more than
// 65535 workgroups (WebGPU's cap per dimension) into x and y. Uses the including shader's
// `override WG`, the threads per workgroup along x.

// The invocation's index in a dispatch of grid1d(count, WG): one invocation per item.
fn flat_index(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

// The workgroup's index in a dispatch of grid1d(count, 1): one workgroup per item.
fn flat_workgroup(wg: vec3u, nwg: vec3u) -> u32 {
  return wg.x + wg.y * nwg.x;
}
