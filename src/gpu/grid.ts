// Dispatch shapes for kernels that index a flat range of `count` items.
// WebGPU caps each dimension at 65535 workgroups, so large ranges fold into y;
// the kernel computes its flat index with flat_index or flat_workgroup (shaders/index.wgsl).

export function grid1d(count: number, workgroupSize: number): [number, number] {
  const groups = Math.max(1, Math.ceil(count / workgroupSize));
  if (groups <= 65535) return [groups, 1];
  const y = Math.ceil(groups / 65535);
  return [Math.ceil(groups / y), y];
}
