// Which checkpoint convention a file's tensor names follow, and the names it holds that the engine
// does not take: a ViTModel's pooler (left unused) and a distilled DeiT's token (refused).
import { CheckpointError } from './safetensors.ts';
import { IGNORED, listNames, NAMINGS, SIGNATURE, type Naming, type TensorMap } from './name-tables.ts';
import { distilledDeitAdvice } from './zoo.ts';

/** Which convention these checkpoint names follow. */
export function detectNaming(names: Iterable<string>): Naming {
  const all = [...names];
  const found = NAMINGS.filter((n) => all.some((name) => SIGNATURE[n].test(name)));
  if (found.length === 1) return found[0];
  if (found.length === 0) {
    throw new CheckpointError(
      `unknown naming: no torchvision, timm or HF transformers ViT tensors among ${all.length} names` +
        (all.length ? `; saw ${listNames(all, 5)}` : ''),
    );
  }
  throw new CheckpointError(`ambiguous naming: the names mix the ${found.join(' and ')} conventions`);
}

/** The tensors of a checkpoint that the model does not use, and why, in words; undefined when none. */
export function unusedTensors(names: Iterable<string>, naming: Naming): string | undefined {
  const unused = [...names].filter((n) => IGNORED[naming]?.test(n));
  return unused.length
    ? `${listNames(unused)} left unused (a ViTModel's pooler: the classifier reads the class token)`
    : undefined;
}

// A distilled DeiT's second token: timm's `dist_token`, HF's `deit.embeddings.distillation_token`.
const DISTILLATION_TOKEN = /^(dist_token|(deit\.)?embeddings\.distillation_token)$/;

/** Refuses a distilled DeiT by its distillation token, naming the zoo model to take instead. */
export function refuseDistilled(tensors: TensorMap): void {
  const token = [...tensors.keys()].find((n) => DISTILLATION_TOKEN.test(n));
  if (token) throw new CheckpointError(`${token}: ${distilledDeitAdvice(tensors.get(token)!.shape.at(-1) ?? 0)}`);
}
