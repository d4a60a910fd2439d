// The Hub address the zoo is fetched from: huggingface.co, or a mirror with the Hub's layout
// (hf-mirror.com, or a server on this machine for the tests), kept in localStorage across reloads.
import { DEFAULT_HUB } from '../../checkpoint/zoo.ts';
import { isHttpUrl } from '../../data/download.ts';

const KEY = 'stochca.hubAddress';

/** The address set in the model panel, or the Hub's own. */
export function hubAddress(): string {
  return globalThis.localStorage?.getItem(KEY) || DEFAULT_HUB;
}

/** Keeps `address` when it is an http(s) address, the Hub's own when it is empty; otherwise says why not. */
export function setHubAddress(address: string): string | undefined {
  const text = address.trim();
  if (text && !isHttpUrl(text)) return 'the Hub address must start with http:// or https://';
  if (!text || text === DEFAULT_HUB) localStorage.removeItem(KEY);
  else localStorage.setItem(KEY, text);
  return undefined;
}
