// Which checkpoint convention a file's tensor names follow, and the names it holds that the engine
// does not take: a ViTModel's pooler, CLIP's text tower, DINOv2's mask token (left out) and a
// distilled DeiT's token (refused).
import { CheckpointError } from './safetensors.ts';
import { IGNORED, listNames, NAMINGS, SIGNATURE, type Naming, type TensorMap } from './name-tables.ts';
import { distilledDeitAdvice } from './zoo.ts';

/** Which convention these checkpoint names follow. */
export function detectNaming(names: Iterable<string>): Naming {
  const all = [...names];
  let found = NAMINGS.filter((n) => all.some((name) => SIGNATURE[n].test(name)));
  // HF's DINOv2 has HF's ViT names for its embeddings and attention, and names of its own besides.
  if (found.includes('hf-dinov2')) found = found.filter((n) => n !== 'hf');
  if (found.length === 1) return found[0];
  if (found.length === 0) {
    throw new CheckpointError(
      `unknown naming: no torchvision, timm, HF transformers ViT, CLIP or DINOv2 tensors among ${all.length} names` +
        (all.length ? `; saw ${listNames(all, 5)}` : ''),
    );
  }
  throw new CheckpointError(`ambiguous naming: the names mix the ${found.join(' and ')} conventions`);
}

/** The tensors of a checkpoint that the model does not use, and why, in words; undefined when none.
 *  A group of names under one prefix (CLIP's `text_model.`) is named once, with its count. */
export function unusedTensors(names: Iterable<string>, naming: Naming): string | undefined {
  const ignored = IGNORED[naming];
  const unused = [...names].filter((n) => ignored?.names.test(n)).sort();
  if (!ignored || unused.length === 0) return undefined;
  const prefix = (n: string) => n.split('.')[0];
  const counts = new Map<string, number>();
  for (const n of unused) counts.set(prefix(n), (counts.get(prefix(n)) ?? 0) + 1);
  const group = (n: string) => {
    const count = counts.get(prefix(n))!;
    return count > 2 ? `${prefix(n)}.* (${count} tensors)` : n;
  };
  const shown = [...new Set(unused.map(group))];
  return `${listNames(shown)} left unused (${ignored.why})`;
}

// A distilled DeiT's second token: timm's `dist_token`, HF's `deit.embeddings.distillation_token`.
const DISTILLATION_TOKEN = /^(dist_token|(deit\.)?embeddings\.distillation_token)$/;

/** Refuses a distilled DeiT by its distillation token, naming the zoo model to take instead. */
export function refuseDistilled(tensors: TensorMap): void {
  const token = [...tensors.keys()].find((n) => DISTILLATION_TOKEN.test(n));
  if (token) throw new CheckpointError(`${token}: ${distilledDeitAdvice(tensors.get(token)!.shape.at(-1) ?? 0)}`);
}
