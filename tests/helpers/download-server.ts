// A loopback HTTP server for the download tests, in Node and in the page: each answer carries CORS
// headers so that a page of another origin may fetch it. Files are registered by name; the route
// says how a file is served:
//   /file/NAME        whole, with its Content-Length
//   /slow/NAME        whole, in SLOW_PIECES pieces over about SLOW_MS
//   /stall/NAME       its Content-Length and first STALL_BYTES bytes, then nothing, the connection held open
//   /endless/NAME     no length; the file, then zeros for ever, as fast as the client reads
//   /long/NAME        a Content-Length of LONG_BYTES; the file, then zeros up to that length
//   /huge/NAME        a Content-Length of HUGE_BYTES, above every cap; the file, then nothing
//   /html/NAME        a login page as text/html
//   /html-bytes/NAME  the same page as application/octet-stream, with blank lines before it
//   /json-bytes/NAME  an API's JSON error as application/octet-stream
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { CheckpointConfig } from '../../src/checkpoint/checkpoint-config.ts';
import { saveModelFile } from '../../src/checkpoint/model-file.ts';
import { canonicalTensors, MNIST_SIZED_VIT, randomVitWeights } from './model.ts';

export const SLOW_PIECES = 16;
export const SLOW_MS = 2000;
export const STALL_BYTES = 16;
export const LONG_BYTES = 2 ** 30;
export const HUGE_BYTES = 5 * 2 ** 30;
const PAGE = '<!DOCTYPE html><html><head><title>Sign in</title></head><body><form>…</form></body></html>';
const CHUNK = Buffer.alloc(64 * 1024);

export interface DownloadServer {
  base: string;
  files: Map<string, Uint8Array>;
  /** Bytes written to clients so far, all routes together. */
  sent(): number;
  close(): Promise<void>;
}

/** A tiny timm-named ViT (10 classes, 28 px) with random weights and its config in the metadata, as a .safetensors file. */
export function tinyModel(): Uint8Array {
  const config: CheckpointConfig = { ...MNIST_SIZED_VIT, channels: 3 };
  return saveModelFile({ config, naming: 'timm', weights: canonicalTensors(config, randomVitWeights(config, 3)) });
}

export async function startDownloadServer(): Promise<DownloadServer> {
  const files = new Map<string, Uint8Array>();
  let sent = 0;
  const write = (res: ServerResponse, bytes: Uint8Array) => ((sent += bytes.length), res.write(bytes));
  /** `first`, then zeros up to `limit` bytes in all, as fast as the client takes them. */
  const pump = (res: ServerResponse, first: Uint8Array, limit: number) => {
    let left = limit - first.length;
    write(res, first);
    const more = () => {
      while (!res.destroyed && left > 0) {
        const piece = CHUNK.subarray(0, Math.min(CHUNK.length, left));
        left -= piece.length;
        if (!write(res, piece)) return;
      }
      if (left <= 0) res.end();
    };
    res.on('drain', more);
    more();
  };

  const server = createServer((req, res) => {
    const [, route, name] = /^\/([\w-]+)\/(.+)$/.exec(req.url ?? '') ?? [];
    const file = files.get(decodeURIComponent(name ?? ''));
    const cors = { 'access-control-allow-origin': '*' };
    const octets = (length?: number) => ({
      ...cors,
      'content-type': 'application/octet-stream',
      ...(length === undefined ? {} : { 'content-length': length }),
    });
    if (!file) {
      res.writeHead(404, cors).end();
      return;
    }
    switch (route) {
      case 'file':
        res.writeHead(200, octets(file.length));
        write(res, file);
        res.end();
        return;
      case 'slow': {
        res.writeHead(200, octets(file.length));
        const size = Math.ceil(file.length / SLOW_PIECES);
        let at = 0;
        const next = () => {
          if (res.destroyed) return;
          write(res, file.subarray(at, (at += size)));
          if (at < file.length) setTimeout(next, SLOW_MS / SLOW_PIECES);
          else res.end();
        };
        next();
        return;
      }
      case 'stall':
        res.writeHead(200, octets(file.length));
        write(res, file.subarray(0, STALL_BYTES));
        return;
      case 'endless':
        res.writeHead(200, octets());
        pump(res, file, Infinity);
        return;
      case 'long':
        res.writeHead(200, octets(LONG_BYTES));
        pump(res, file, LONG_BYTES);
        return;
      case 'huge':
        res.writeHead(200, octets(HUGE_BYTES));
        write(res, file);
        return;
      case 'html':
        res.writeHead(200, { ...cors, 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
        return;
      case 'html-bytes':
        res.writeHead(200, octets()).end(`\n\n  ${PAGE}`);
        return;
      case 'json-bytes':
        res.writeHead(200, octets()).end('{"error":"the file is private","status":403}');
        return;
      default:
        res.writeHead(404, cors).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the download server did not start');
  return {
    base: `http://127.0.0.1:${address.port}`,
    files,
    sent: () => sent,
    close: () => {
      server.closeAllConnections(); // the stalled and endless answers never end by themselves
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
