// The runs panel's "Import run": the output folder of the exported PyTorch script, dropped or picked
// (the folder, or its files).
import { treeFromDrop, treeFromFileList } from '../../data/browser-sources.ts';
import { DropZone } from '../panels/DropZone.tsx';
import { importRun } from './import-run.ts';

export function ImportRun() {
  return (
    <DropZone
      label="Import run: drop the output folder of the exported train.py, or"
      folders
      testId="import-run"
      onFiles={(files) => void importRun(treeFromFileList(files))}
      onDrop={(data) => void importRun(treeFromDrop(data))}
    />
  );
}
