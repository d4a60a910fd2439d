// A dataset zip at a URL, fetched only when the person asks for it (a command-line
// --data https://… or a button in the page; never from a share link on its own).
// Works in the browser and in Node (global fetch).
import { download, isHttpUrl, urlFileName, type DownloadOptions } from './download.ts';
import type { FileTree } from './entries.ts';
import { zipTree } from './zip-source.ts';

/** A downloaded zip is held whole in memory while it is in use (a Blob of its parts, in the page as in
 *  the command line). 4 GiB holds hundreds of thousands of small images, more than a run here can use;
 *  a larger dataset is better opened from disk (a picked zip or folder, `--data DIR|ZIP`), which is
 *  read entry by entry. */
export const DATASET_MAX_BYTES = 4 * 2 ** 30;

export const isDataUrl = isHttpUrl;

export type ZipDownloadOptions = Pick<DownloadOptions, 'signal' | 'idleSeconds' | 'onProgress'>;

/** Downloads the zip and lists its entries. */
export async function urlTree(url: string, options: ZipDownloadOptions = {}): Promise<FileTree> {
  const { blob, name } = await fetchZip(url, options);
  return zipTree(blob, name);
}

/** Downloads the zip at `url`; its name is the URL's last path segment. */
export async function fetchZip(url: string, options: ZipDownloadOptions = {}): Promise<{ blob: Blob; name: string }> {
  const blob = await download(url, { ...options, what: 'a zip file', maxBytes: DATASET_MAX_BYTES });
  return { blob, name: urlFileName(url, 'download.zip') };
}
