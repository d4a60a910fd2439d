// A dataset zip fetched from a URL (a server on this machine's loopback).
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectImages } from '../../src/data/entries.ts';
import { imageFolder } from '../../src/data/layout.ts';
import { isDataUrl, urlTree } from '../../src/data/url-source.ts';

const zip = readFileSync('public/packs/mnist.zip');
let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/packs/mnist.zip') {
      res.writeHead(200, { 'content-type': 'application/zip', 'content-length': zip.length });
      res.end(zip);
    } else {
      res.writeHead(404, 'Not Found');
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  base = `http://127.0.0.1:${address.port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('dataset URLs', () => {
  it('fetches a zip, reporting progress, and lists it like a local one', async () => {
    const seen: number[] = [];
    const tree = await urlTree(`${base}/packs/mnist.zip`, (received, total) => {
      expect(total).toBe(zip.length);
      seen.push(received);
    });
    expect(seen.at(-1)).toBe(zip.length);
    const folder = imageFolder(selectImages(tree));
    expect(folder.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect([folder.train.length, folder.test.length]).toEqual([3000, 1000]);
  });

  it('says what went wrong with a bad address', async () => {
    await expect(urlTree(`${base}/missing.zip`)).rejects.toThrow(`cannot fetch ${base}/missing.zip (HTTP 404 Not Found)`);
    await expect(urlTree('ftp://example.org/x.zip')).rejects.toThrow("'ftp://example.org/x.zip' is not an http(s) URL");
    await expect(urlTree('http://127.0.0.1:9/x.zip')).rejects.toThrow(/^cannot fetch http:\/\/127\.0\.0\.1:9\/x\.zip \(/);
    expect(isDataUrl('HTTPS://a/b.zip')).toBe(true);
    expect(isDataUrl('data/b.zip')).toBe(false);
  });
});
