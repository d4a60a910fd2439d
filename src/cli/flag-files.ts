// The files the command line's flags name (--model, --config, --input, --experiment…), read whole; a
// file that cannot be read is named by its flag, with the system's reason (ENOENT, EACCES).
import { readFileSync } from 'node:fs';

export function readFlagFile(path: string, flag: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new Error(`cannot read --${flag} ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
}

/** The file's text: UTF-8, less a byte-order mark (a config.json saved by Notepad has one). */
export const readFlagText = (path: string, flag: string): string => new TextDecoder().decode(readFlagFile(path, flag));
