// A loopback mirror of the Hugging Face Hub for the zoo's tests, in Node and in the page: every zoo
// entry's files at the Hub's addresses, with random weights of exactly the entry's tensor names and
// shapes (tests/helpers/zoo-files.ts) and the repository's config.json.
//   /<org>/<name>/resolve/main/config.json   the config, 200, as the Hub serves a small file
//   /<org>/<name>/resolve/main/<weights>     302 to /cdn/<hash>, as the Hub sends large files to its CDN
//   /cdn/<hash>                              the weights: Accept-Ranges: bytes, a Range (bytes=a- or
//                                            bytes=a-b) gives 206
// Every answer carries CORS headers (and exposes Accept-Ranges and Content-Range) as the Hub's do, and
// preflights are answered. `dropNext()` makes the next whole-file answer break off half way through,
// the connection dropped; `ranges = false` makes it a server without ranges (no Accept-Ranges, a Range
// answered with the whole file); `unavailable = n` answers the next n requests for weights with 503, as
// a server restarting would; `bytesPerSecond` paces the weights so that a page can show their progress;
// `served` counts the weights' bytes sent. `startHubMirror({ repo: bytes })` serves those bytes as a
// repository's weights in place of its fixture's; `startHubMirror({}, { repo: fixture })` serves that
// fixture's config and random weights (e.g. zoo-files.ts `shallower`).
import { createHash } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import { ZOO, ZOO_CONFIG_FILE } from '../../src/checkpoint/zoo.ts';
import { zooFixture, zooWeights, type ZooFixture } from './zoo-files.ts';

/** Pieces the paced answers are written in. */
const PIECE = 64 * 1024;

export interface MirrorRequest {
  method: string;
  path: string;
  range?: string;
  status: number;
  /** When it arrived (performance.now()). */
  at: number;
}

export interface HubMirror {
  /** The Hub address to give the page or STOCHCA_HUB. */
  base: string;
  requests: MirrorRequest[];
  /** Pace of the weights' bodies; Infinity: as fast as the client reads. */
  bytesPerSecond: number;
  /** Whether Range requests are honoured (and Accept-Ranges: bytes sent). */
  ranges: boolean;
  /** How many of the next requests for weights get 503 Service Unavailable. */
  unavailable: number;
  /** The next whole-file answer of weights sends half the file, then drops the connection. */
  dropNext(): void;
  /** When the last dropped answer was cut (performance.now()). */
  droppedAt?: number;
  /** Bytes of weights sent, in every answer. */
  served: number;
  /** The weights file served for `repo` (built on first use). */
  weights(repo: string): Uint8Array;
  close(): Promise<void>;
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'Accept-Ranges, Content-Range, Content-Length, ETag',
};

export async function startHubMirror(
  files: Record<string, Uint8Array> = {},
  fixtures: Record<string, ZooFixture> = {},
): Promise<HubMirror> {
  const built = new Map<string, Uint8Array>(Object.entries(files));
  const fixtureOf = (repo: string) => fixtures[repo] ?? zooFixture(repo);
  const weights = (repo: string) => {
    let bytes = built.get(repo);
    if (!bytes) built.set(repo, (bytes = zooWeights(fixtureOf(repo))));
    return bytes;
  };
  const hashOf = (repo: string) => createHash('sha256').update(repo).digest('hex');
  const byHash = new Map(ZOO.map((e) => [hashOf(e.repo), e.repo]));
  let drop = false;

  /** `body`, paced; with `cut`, only its first `cut` bytes, then the connection is dropped. */
  const send = (res: ServerResponse, body: Uint8Array, cut: number | undefined) => {
    let at = 0;
    const end = cut ?? body.length;
    const next = () => {
      if (res.destroyed) return;
      const piece = body.subarray(at, Math.min(end, at + PIECE));
      at += piece.length;
      mirror.served += piece.length;
      const more = at < end;
      res.write(piece, () => {
        if (more)
          setTimeout(next, Number.isFinite(mirror.bytesPerSecond) ? (1000 * piece.length) / mirror.bytesPerSecond : 0);
        else if (cut !== undefined) {
          mirror.droppedAt = performance.now();
          res.destroy();
        } else res.end();
      });
    };
    next();
  };

  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const range = req.headers.range;
    const answer = (status: number) =>
      mirror.requests.push({ method: req.method ?? '', path, range, status, at: performance.now() });
    if (req.method === 'OPTIONS') {
      answer(204);
      res
        .writeHead(204, { ...CORS, 'access-control-allow-headers': 'range', 'access-control-allow-methods': 'GET' })
        .end();
      return;
    }
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/main\/(.+)$/.exec(path);
    const entry = resolve && ZOO.find((e) => e.repo === resolve[1]);
    if (entry && resolve[2] === ZOO_CONFIG_FILE) {
      const config = Buffer.from(JSON.stringify(fixtureOf(entry.repo).config, null, 2));
      answer(200);
      res
        .writeHead(200, { ...CORS, 'content-type': 'text/plain; charset=utf-8', 'content-length': config.length })
        .end(config);
      return;
    }
    if (entry && resolve[2] === entry.file && mirror.unavailable > 0) {
      mirror.unavailable--;
      answer(503);
      res.writeHead(503, CORS).end();
      return;
    }
    if (entry && resolve[2] === entry.file) {
      answer(302);
      res.writeHead(302, { ...CORS, location: `/cdn/${hashOf(entry.repo)}` }).end();
      return;
    }
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(path);
    const repo = cdn && byHash.get(cdn[1]);
    if (!repo) {
      answer(404);
      res.writeHead(404, CORS).end();
      return;
    }
    const body = weights(repo);
    const headers = {
      ...CORS,
      'content-type': 'application/octet-stream',
      ...(mirror.ranges && { 'accept-ranges': 'bytes' }),
      etag: `"${cdn[1]}"`,
    };
    const asked = mirror.ranges ? /^bytes=(\d+)-(\d*)$/.exec(range ?? '') : null;
    if (asked && Number(asked[1]) < body.length) {
      const start = Number(asked[1]);
      const end = Math.min(asked[2] ? Number(asked[2]) + 1 : body.length, body.length);
      answer(206);
      res.writeHead(206, {
        ...headers,
        'content-length': end - start,
        'content-range': `bytes ${start}-${end - 1}/${body.length}`,
      });
      send(res, body.subarray(start, end), undefined);
      return;
    }
    answer(200);
    res.writeHead(200, { ...headers, 'content-length': body.length });
    const cut = drop ? Math.floor(body.length / 2) : undefined;
    drop = false;
    send(res, body, cut);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the Hub mirror did not start');
  const mirror: HubMirror = {
    base: `http://127.0.0.1:${address.port}`,
    requests: [],
    bytesPerSecond: Infinity,
    ranges: true,
    served: 0,
    unavailable: 0,
    dropNext: () => void (drop = true),
    weights,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return mirror;
}
