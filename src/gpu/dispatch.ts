// Grid helpers: 1-D problems larger than 65,535 workgroups fold into a 2-D grid (kernels compute
// `gid.x + gid.y * num_workgroups.x * WG`).

export function grid1d(invocations: number, workgroupSize: number, maxPerDim = 65535): [number, number] {
  const groups = Math.max(1, Math.ceil(invocations / workgroupSize));
  if (groups <= maxPerDim) return [groups, 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y];
}
