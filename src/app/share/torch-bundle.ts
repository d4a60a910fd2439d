// The page's "Export for PyTorch": the experiment as set, on the model and dataset loaded now, as a zip
// of the folder `stochca export-torch` writes (src/train/torch-export.ts), with the script bundled here.
import { zipSync } from 'fflate';
import script from '../../torch/train.py?raw';
import { treeOfSource } from '../../data/dataset-source.ts';
import { torchExport } from '../../train/torch-export.ts';
import { download } from '../runs/exports.ts';
import { useStore } from '../store.ts';

export async function exportForTorch(): Promise<void> {
  const { experiment, model, data } = useStore.getState();
  if (!model.bytes || !data.source) throw new Error('load a model and a dataset first');
  const { files } = torchExport({
    experiment,
    model: { model: new Uint8Array(model.bytes) },
    tree: await treeOfSource(data.source),
    script,
  });
  download(
    'stochca-torch.zip',
    zipSync(Object.fromEntries([...files].map(([name, bytes]) => [`stochca-torch/${name}`, bytes]))),
  );
}
