// A checkpoint checked against a config before it is converted: every tensor present, none
// unexpected, every shape right, each problem named by its checkpoint name.
import { shapeStr, type HostTensor } from '../gpu/tensor.ts';
import { CheckpointError, type StoredTensor } from './safetensors.ts';
import { describeConfig, type CheckpointConfig } from './checkpoint-config.ts';
import { checkpointShapes, IGNORED, isBareHf, layout, listNames, type Naming, type TensorMap } from './name-tables.ts';

const isHead = (canonical: string) => canonical.startsWith('head.');

export function notFloat(name: string, t: StoredTensor | HostTensor): string | undefined {
  if (t.data instanceof Float32Array) return undefined;
  return `${name}: expected a floating-point tensor, got ${'dtype' in t ? t.dtype : 'integers'}`;
}

/**
 * Checks a checkpoint against a config: every tensor present (the classifier head may be absent as
 * a whole: the caller makes a new one), none unexpected, every shape right. Throws one
 * CheckpointError that lists every problem by checkpoint name.
 */
export function validateCheckpoint(tensors: TensorMap, naming: Naming, config: CheckpointConfig): void {
  const bare = isBareHf(naming, tensors.keys());
  const headNames = new Set(
    layout(naming, 0, bare)
      .filter((s) => isHead(s.canonical))
      .flatMap((s) => s.names),
  );
  const noHead = ![...headNames].some((n) => tensors.has(n));
  const expected = checkpointShapes(config, naming, bare);
  const problems: string[] = [];
  const missing: string[] = [];
  for (const [name, shape] of expected) {
    const t = tensors.get(name);
    if (!t) {
      if (!(noHead && headNames.has(name))) missing.push(name);
      continue;
    }
    const wrongShape = shapeStr(t.shape) !== shapeStr(shape);
    const problem =
      notFloat(name, t) ??
      (wrongShape ? `${name}: expected ${shapeStr(shape, ', ')}, got ${shapeStr(t.shape, ', ')}` : undefined);
    if (problem) problems.push(problem);
  }
  const ignored = IGNORED[naming];
  const unexpected = [...tensors.keys()].filter((n) => !expected.has(n) && !ignored?.names.test(n));
  if (missing.length) problems.push(`missing: ${listNames(missing)}`);
  if (unexpected.length) problems.push(`unexpected: ${listNames(unexpected)}`);
  if (problems.length) {
    throw new CheckpointError(
      `${naming} checkpoint does not fit ${describeConfig(config)}:\n  ${problems.join('\n  ')}`,
    );
  }
}
