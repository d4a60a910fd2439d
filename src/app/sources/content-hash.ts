// Content hashes that let a share link name a local file or dataset, so the page can check that
// the files a person gives it are the ones the link was made with.
const hex = (b: ArrayBuffer) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');

export async function sha256(bytes: ArrayBuffer | Uint8Array): Promise<string> {
  return hex(await crypto.subtle.digest('SHA-256', bytes as BufferSource));
}

/** SHA-256 over each file's path, size and own SHA-256, in path order: the same files give the same
 *  hash whichever way they arrive (folder, picker). Reads every file once. */
export async function filesHash(files: { path: string; file: Blob }[]): Promise<string> {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const lines: string[] = [];
  for (const f of sorted) lines.push(`${f.path}\t${f.file.size}\t${await sha256(await f.file.arrayBuffer())}`);
  return sha256(new TextEncoder().encode(lines.join('\n')));
}
