// The tensor names and shapes of one block of CLIP's and DINOv2's ViTs, as transformers and timm name them
// (written from their modules), for the tests that build such files at a reduced size: D the width, M the MLP's.
export type Names = [string, number[]][];

/** Each name of a block under `prefix`. */
export const block = (prefix: string, names: Record<string, number[]>): Names =>
  Object.entries(names).map(([n, s]) => [prefix + n, s]);

/** transformers' CLIPEncoderLayer. */
export const hfClipLayer = (D: number, M: number): Record<string, number[]> => ({
  'self_attn.q_proj.weight': [D, D],
  'self_attn.q_proj.bias': [D],
  'self_attn.k_proj.weight': [D, D],
  'self_attn.k_proj.bias': [D],
  'self_attn.v_proj.weight': [D, D],
  'self_attn.v_proj.bias': [D],
  'self_attn.out_proj.weight': [D, D],
  'self_attn.out_proj.bias': [D],
  'layer_norm1.weight': [D],
  'layer_norm1.bias': [D],
  'mlp.fc1.weight': [M, D],
  'mlp.fc1.bias': [M],
  'mlp.fc2.weight': [D, M],
  'mlp.fc2.bias': [D],
  'layer_norm2.weight': [D],
  'layer_norm2.bias': [D],
});

/** transformers' Dinov2Layer (LayerScale on both branches). */
export const hfDinov2Layer = (D: number, M: number): Record<string, number[]> => ({
  'norm1.weight': [D],
  'norm1.bias': [D],
  'attention.attention.query.weight': [D, D],
  'attention.attention.query.bias': [D],
  'attention.attention.key.weight': [D, D],
  'attention.attention.key.bias': [D],
  'attention.attention.value.weight': [D, D],
  'attention.attention.value.bias': [D],
  'attention.output.dense.weight': [D, D],
  'attention.output.dense.bias': [D],
  'layer_scale1.lambda1': [D],
  'norm2.weight': [D],
  'norm2.bias': [D],
  'mlp.fc1.weight': [M, D],
  'mlp.fc1.bias': [M],
  'mlp.fc2.weight': [D, M],
  'mlp.fc2.bias': [D],
  'layer_scale2.lambda1': [D],
});

/** timm's Block: with `layerScale` (DINOv2's init_values) its ls1 and ls2. */
export const timmLayer = (D: number, M: number, layerScale: boolean): Record<string, number[]> => ({
  'norm1.weight': [D],
  'norm1.bias': [D],
  'attn.qkv.weight': [3 * D, D],
  'attn.qkv.bias': [3 * D],
  'attn.proj.weight': [D, D],
  'attn.proj.bias': [D],
  'norm2.weight': [D],
  'norm2.bias': [D],
  'mlp.fc1.weight': [M, D],
  'mlp.fc1.bias': [M],
  'mlp.fc2.weight': [D, M],
  'mlp.fc2.bias': [D],
  ...(layerScale ? { 'ls1.gamma': [D], 'ls2.gamma': [D] } : {}),
});
