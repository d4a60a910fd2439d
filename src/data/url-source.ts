// A dataset zip at a URL, fetched only when the person asks for it (a command-line
// --data https://… or a button in the page; never from a share link on its own).
// Works in the browser and in Node (global fetch).
import { DatasetError, type FileTree } from './entries.ts';
import { zipTree } from './zip-source.ts';

export function isDataUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

/** Downloads the zip (reporting bytes received) and lists its entries. */
export async function urlTree(url: string, onProgress?: (received: number, total: number | undefined) => void): Promise<FileTree> {
  const { blob, name } = await fetchZip(url, onProgress);
  return zipTree(blob, name);
}

/** Downloads the file at `url`, reporting bytes received; its name is the URL's last path segment. */
export async function fetchZip(url: string, onProgress?: (received: number, total: number | undefined) => void): Promise<{ blob: Blob; name: string }> {
  if (!isDataUrl(url)) throw new DatasetError(`'${url}' is not an http(s) URL`);
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new DatasetError(`cannot fetch ${url} (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!response.ok || !response.body) throw new DatasetError(`cannot fetch ${url} (HTTP ${response.status} ${response.statusText})`);
  const total = Number(response.headers.get('content-length')) || undefined;
  const parts: Uint8Array[] = [];
  let received = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    received += value.length;
    onProgress?.(received, total);
  }
  const name = decodeURIComponent(new URL(url).pathname.split('/').pop() || 'download.zip');
  return { blob: new Blob(parts as BlobPart[]), name };
}
