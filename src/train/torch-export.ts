// An experiment exported for PyTorch: the files `stochca export-torch` writes into a folder and the
// page's "Export for PyTorch" puts in a zip. The split is the run driver's own (run.ts `runSplit`) and
// the model the one the engine would start from (engine-api.ts `loadStartingModel`: the new head seeded
// with the run's seed, the position embedding resized), so the script (src/torch/train.py) trains
// the same images from the same weights; it reimplements the rest (masks, order, views, schedule).
import { saveModelFile } from '../checkpoint/model-file.ts';
import type { FileTree } from '../data/entries.ts';
import type { Sample } from '../data/layout.ts';
import { loadStartingModel, type ModelArgs } from './engine-api.ts';
import { runSplit } from './run.ts';
import { effectiveP, experimentJson, type Experiment } from './settings.ts';
import { torchReadme } from './torch-readme.ts';

export interface TorchExportInput {
  experiment: Experiment;
  model: ModelArgs;
  tree: FileTree;
  /** The text of src/torch/train.py, as the host reads it (a file in Node, a bundled asset in the page). */
  script: string;
}

/** split.json: every image of each split, by path below the dataset's root, with its class index. */
export interface SplitFile {
  classes: string[];
  /** A single wrapper folder the engine reads through ('mnist/' of 'mnist/train/0/a.png'), or ''. */
  top: string;
  /** True when the validation images were drawn from the training folder with the seed. */
  valDrawn: boolean;
  train: [string, number][];
  val: [string, number][];
  test: [string, number][];
}

const listed = (samples: Sample[]): [string, number][] => samples.map((s) => [s.entry.path, s.label]);

/** The exported files by name, and the counts for a message. */
export function torchExport(i: TorchExportInput): {
  files: Map<string, Uint8Array>;
  counts: { train: number; val: number; test: number };
} {
  const { files, folder, split } = runSplit(i.tree, i.experiment);
  const { model: _m, data: _d, ...settings } = i.experiment;
  const model = loadStartingModel({
    ...i.model,
    classNames: folder.classes,
    imageSize: settings.imageSize,
    settings: { ...settings, p: effectiveP(settings) },
  });
  const splitFile: SplitFile = {
    classes: folder.classes,
    top: files.top,
    valDrawn: split.valDrawn,
    train: listed(split.train),
    val: listed(split.val),
    test: listed(split.test),
  };
  const counts = { train: split.train.length, val: split.val.length, test: split.test.length };
  const text = (s: string) => new TextEncoder().encode(s);
  return {
    files: new Map([
      ['experiment.json', text(experimentJson(i.experiment))],
      ['split.json', text(`${JSON.stringify(splitFile)}\n`)],
      ['model.safetensors', saveModelFile(model)],
      ['train.py', text(i.script)],
      ['README.md', text(torchReadme(i.experiment, model.config, counts))],
    ]),
    counts,
  };
}
