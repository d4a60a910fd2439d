// The trainable tensors of a ViT, in one fixed order. Names follow one internal
// convention; src/checkpoint maps them to torchvision, timm and HF names.
import { vitDims, type VitArch } from './vit-arch.ts';

export interface ParamSpec {
  name: string;
  shape: number[];
}

export function blockParamSpecs(c: VitArch, i: number): ParamSpec[] {
  const { D, M } = vitDims(c);
  const b = `blocks.${i}`;
  return [
    { name: `${b}.ln1.weight`, shape: [D] },
    { name: `${b}.ln1.bias`, shape: [D] },
    { name: `${b}.qkv.weight`, shape: [3 * D, D] },
    { name: `${b}.qkv.bias`, shape: [3 * D] },
    { name: `${b}.proj.weight`, shape: [D, D] },
    { name: `${b}.proj.bias`, shape: [D] },
    { name: `${b}.ln2.weight`, shape: [D] },
    { name: `${b}.ln2.bias`, shape: [D] },
    { name: `${b}.fc1.weight`, shape: [M, D] },
    { name: `${b}.fc1.bias`, shape: [M] },
    { name: `${b}.fc2.weight`, shape: [D, M] },
    { name: `${b}.fc2.bias`, shape: [D] },
    ...(c.layerScale
      ? [
          { name: `${b}.ls1`, shape: [D] },
          { name: `${b}.ls2`, shape: [D] },
        ]
      : []),
  ];
}

export function vitParamSpecs(c: VitArch): ParamSpec[] {
  const { D, P, R, C } = vitDims(c);
  return [
    { name: 'patch.weight', shape: [D, 3, c.patchSize, c.patchSize] },
    ...(c.patchBias === false ? [] : [{ name: 'patch.bias', shape: [D] }]),
    { name: 'cls', shape: [D] },
    // The class token's and the patches' (registers have none).
    { name: 'pos', shape: [1 + P, D] },
    ...(R > 0 ? [{ name: 'registers', shape: [R, D] }] : []),
    ...(c.preNorm
      ? [
          { name: 'preNorm.weight', shape: [D] },
          { name: 'preNorm.bias', shape: [D] },
        ]
      : []),
    ...Array.from({ length: c.depth }, (_, i) => blockParamSpecs(c, i)).flat(),
    { name: 'norm.weight', shape: [D] },
    { name: 'norm.bias', shape: [D] },
    { name: 'head.weight', shape: [C, D] },
    { name: 'head.bias', shape: [C] },
  ];
}
