// The dataset sources, the decoding pool and the batcher in a page, for tests driven from Node:
// window.stochcaData holds the functions; a drop on #drop or a pick in #folder / #file reads a
// dataset into `last`.
import { Batcher } from '../../src/data/batcher.ts';
import * as sources from '../../src/data/browser-sources.ts';
import { BrowserDecoder, ImageDecodeError } from '../../src/data/decode-browser.ts';
import { selectImages, type FileTree, type LeftOut } from '../../src/data/entries.ts';
import { imageFolder, type ImageFolder } from '../../src/data/layout.ts';
import { errorMessage } from '../../src/gpu/error-message.ts';

/** A dataset as plain data that can leave the page. */
export interface SourceSummary {
  classes: string[];
  /** Images per class, all splits together. */
  counts: Record<string, number>;
  paths: string[];
  leftOut: LeftOut[];
  problems: string[];
}

export interface DataHarness {
  sources: typeof sources;
  Batcher: typeof Batcher;
  BrowserDecoder: typeof BrowserDecoder;
  ImageDecodeError: typeof ImageDecodeError;
  /** One pool for the page. */
  decoder: BrowserDecoder;
  /** A File of the given bytes (base64, as they cross from Node). */
  file(base64: string, name: string): File;
  /** The image folder of a tree; it is kept in `dataset` for decoding. */
  summarize(tree: FileTree): SourceSummary;
  dataset?: ImageFolder;
  /** What the last drop or pick read, or why it failed. */
  last?: Promise<SourceSummary | { error: string }>;
}

declare global {
  interface Window {
    stochcaData: DataHarness;
  }
}

const harness: DataHarness = {
  sources,
  Batcher,
  BrowserDecoder,
  ImageDecodeError,
  decoder: new BrowserDecoder(),
  file: (base64, name) => new File([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], name),
  summarize(tree) {
    const folder = imageFolder(selectImages(tree));
    harness.dataset = folder;
    const samples = [...folder.train, ...folder.val, ...folder.test];
    const counts = Object.fromEntries(folder.classes.map((c, i) => [c, samples.filter((s) => s.label === i).length]));
    return {
      classes: folder.classes,
      counts,
      paths: samples.map((s) => s.entry.path),
      leftOut: folder.leftOut,
      problems: folder.problems,
    };
  },
};
window.stochcaData = harness;

const result = document.getElementById('result')!;

function show(tree: Promise<FileTree>): void {
  harness.last = tree.then(harness.summarize).catch((e: unknown) => ({ error: errorMessage(e) }));
  harness.last.then((summary) => (result.textContent = JSON.stringify(summary, null, 2)));
}

const drop = document.getElementById('drop')!;
drop.addEventListener('dragover', (e) => e.preventDefault());
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  show(sources.treeFromDrop(e.dataTransfer!));
});
for (const id of ['folder', 'file']) {
  const input = document.getElementById(id) as HTMLInputElement;
  input.addEventListener('change', () => show(sources.treeFromFileList(input.files!)));
}
