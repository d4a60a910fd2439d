// The README.md of an experiment exported for PyTorch (torch-export.ts): what the folder holds, the
// commands for one GPU, several and several machines, and what is the same as the engine's run.
import type { CheckpointConfig } from '../checkpoint/checkpoint-config.ts';
import { cacheSizeFor } from '../data/augment.ts';
import { PROPERTIES, type DataRef, type Experiment } from './settings.ts';

function dataInWords(d: DataRef): string {
  if (d.kind === 'pack')
    return `the built-in pack \`${d.id}\` (\`public/packs/${d.id}.zip\` in the StochCA Playground's checkout)`;
  if (d.kind === 'url') return `the zip at ${d.url}`;
  return `'${d.name}' (${d.size.toLocaleString('en')} bytes, SHA-256 ${d.sha256})`;
}

export function torchReadme(
  e: Experiment,
  c: CheckpointConfig,
  counts: { train: number; val: number; test: number },
): string {
  const cache = cacheSizeFor(c.imageSize);
  const settings = (
    [
      'method',
      'p',
      'lr',
      'batch',
      'steps',
      'warmup',
      'weightDecay',
      'wdExempt',
      'clip',
      'imageSize',
      'fraction',
      'valFraction',
      'evalEvery',
      'crop',
      'flip',
      'seed',
    ] as const
  )
    .map((k) => `${PROPERTIES[k].flag}=${PROPERTIES[k].format(e[k] as never)}`)
    .join(', ');
  return `# A StochCA experiment for PyTorch

Exported from the StochCA Playground: ${settings}.
ViT of ${c.depth} blocks, width ${c.dim}, ${c.heads} heads, ${c.imageSize} px input in ${c.patchSize} px patches,
${c.numClasses} classes; ${counts.train} training, ${counts.val} validation and ${counts.test} test images.

| file | what |
| --- | --- |
| \`experiment.json\` | every setting, as the page and \`stochca train --experiment\` read them |
| \`split.json\` | the training, validation and test images the seed and fraction chose (paths below the dataset's root, class index), classes in order |
| \`model.safetensors\` | the starting weights as the engine loads them (new head initialised with the seed, position embedding resized), with the engine's metadata |
| \`train.py\` | the run on PyTorch alone (Python 3.9+, torch 1.13+, Pillow); \`python3 train.py --help\` |

The data is ${dataInWords(e.data)}: give its folder or zip as \`--data-root\`.

## Commands
\`\`\`sh
python3 train.py --data-root DATA --out run                        # one GPU (or the CPU when there is none)
torchrun --nproc_per_node 4 train.py --data-root DATA --out run    # 4 GPUs of one machine (NCCL; Gloo on CPUs)
# several machines: the same command on each (the folder and the data at hand there), one host:port as rendezvous
torchrun --nnodes 2 --nproc_per_node 8 --rdzv_backend c10d --rdzv_endpoint FIRST_HOST:29500 \\
         --rdzv_id stochca train.py --data-root DATA --out run
\`\`\`
Debian 12's torch 1.13 under Python 3.11 stops torchrun at its start (\`'NoneType' object has no attribute
'get'\`): add \`--redirects 9:0 --tee 9:0\` after \`torchrun\`.
On a CPU with Debian's \`python3-torch\`, install \`libopenblas0-openmp\` too: alone the package brings the
reference BLAS, with which the script's matrix products take 2.7 times as long.

\`--steps N\` stops after step N of the schedule (the same learning rates and masks as the whole run; the
last step is evaluated and the test split scored); \`--device cpu|cuda|cuda:K\` picks the device of a single
process. The batch of ${e.batch} is the global batch: each of W processes takes ${e.batch}/W images of it (W must
divide it), and the gradients are averaged over the processes, so the step is the one-process step.

The run writes into \`--out\`: \`curves.json\` and \`curves.csv\` (\`step,split,loss,accuracy,lr,mask\`),
\`config.json\` (the settings, classes, counts, the host and device it ran on), \`model.safetensors\` (the final
weights) and \`best.safetensors\` (the best validation accuracy), named as the starting model was and with its
metadata, so \`stochca eval --model run/model.safetensors --data DATA\` reads them as they are, and the page's
"Import run" shows the run beside its own.

## What is the same as the engine's run, and what is not
- The same: the images of each split, the classes and their order, the starting weights, the StochCA mask of
  every step (a function of the seed and the step: mulberry32, drawn once per step, the same on every
  process), the order of the images in every epoch, each image's crop and flip, the resampling of PNG, BMP
  and GIF images whose shorter side is at most ${cache} px (the engine's own bilinear), the normalisation, the learning rate
  of every step (linear warm-up, then cosine), the parameters trained (the head alone for a linear probe, the
  rest frozen), AdamW's parameter groups and clipping, the evaluation schedule
  and the choice of the best-validation weights.
- Not bit for bit: float32 arithmetic in another order (PyTorch's kernels, and the all-reduce of several
  processes). Measured on a CPU: the losses of 60 steps within 2.3e-7 (relative) of the engine's, and one
  process and two within 3e-7 of each other; such differences can grow over a long run;
  JPEG decoding (another decoder's rounding) and images whose shorter side is larger, which Pillow shrinks
  where the engine's decoder (libvips or the browser) does, with another filter.
- An image the script cannot decode stops it with the file's name (the engine leaves such an image out).
`;
}
