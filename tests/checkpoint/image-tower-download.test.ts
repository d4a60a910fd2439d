// A whole CLIP file on the Hub (its text tower, projections and logit_scale beside the image tower) is
// fetched as its header, then the image tower's bytes by Range requests, and kept as a file of the image
// tower alone, which loads as the whole file does. The loopback mirror serves a CLIP file of the real
// names and shapes at a reduced depth and counts the bytes it sends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelFile } from '../../src/checkpoint/model-file.ts';
import { readHeader } from '../../src/checkpoint/safetensors.ts';
import { zooEntry } from '../../src/checkpoint/zoo.ts';
import { downloadZooModel } from '../../src/data/model-download.ts';
import type { DownloadProgress } from '../../src/data/download.ts';
import { startHubMirror, type HubMirror } from '../helpers/hub-mirror.ts';
import { zooFixture, zooWeights } from '../helpers/zoo-files.ts';

const REPO = 'openai/clip-vit-base-patch16';
const entry = zooEntry(REPO);
const fixture = zooFixture(REPO);
/** Blocks kept of each tower: the file keeps every other name and shape of the Hub's. */
const DEPTH = 2;
const reduced = {
  ...fixture,
  tensors: Object.fromEntries(
    Object.entries(fixture.tensors).filter(([n]) => Number(/\.layers\.(\d+)\./.exec(n)?.[1] ?? 0) < DEPTH),
  ),
};
const config = reduced.config as { vision_config: Record<string, unknown> };
const hfConfig = { ...config, vision_config: { ...config.vision_config, num_hidden_layers: DEPTH } };
const file = zooWeights(reduced);
const header = readHeader(file);
const imageTower = header.entries.filter((e) => e.name.startsWith('vision_model.'));
const towerBytes = imageTower.reduce((n, e) => n + e.end - e.begin, 0);

let mirror: HubMirror;
beforeAll(async () => {
  mirror = await startHubMirror({ [REPO]: file });
});
afterAll(() => mirror.close());

/** Byte for byte; vitest's toEqual walks a typed array element by element, minutes for these sizes. */
const same = (a: ArrayBufferView, b: ArrayBufferView) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

const paths = () =>
  mirror.requests.map((q) => `${q.status} ${q.path.replace(/[0-9a-f]{64}/, '<hash>')}${q.range ? ` ${q.range}` : ''}`);

describe('a zoo CLIP file', () => {
  it('is fetched as its header and its image tower, and loads as the whole file does', async () => {
    mirror.requests.length = 0;
    mirror.served = 0;
    let last: DownloadProgress | undefined;
    const { weights } = await downloadZooModel(entry, mirror.base, { onProgress: (p) => (last = p) });
    const kept = new Uint8Array(await weights.arrayBuffer());

    const start = Math.min(...imageTower.map((e) => e.begin)) + header.dataStart;
    expect(paths()).toEqual([
      `200 /${REPO}/resolve/main/config.json`,
      `302 /${REPO}/resolve/main/model.safetensors bytes=0-7`,
      '206 /cdn/<hash> bytes=0-7',
      `302 /${REPO}/resolve/main/model.safetensors bytes=8-${header.dataStart - 1}`,
      `206 /cdn/<hash> bytes=8-${header.dataStart - 1}`,
      // The image tower's tensors lie together in the file (safetensors orders them by name).
      `302 /${REPO}/resolve/main/model.safetensors bytes=${start}-${start + towerBytes - 1}`,
      `206 /cdn/<hash> bytes=${start}-${start + towerBytes - 1}`,
    ]);
    expect(mirror.served).toBe(header.dataStart + towerBytes);
    expect(mirror.served / file.length).toBeLessThan(0.6);
    expect(last).toMatchObject({ received: towerBytes, total: towerBytes });
    console.log(
      `${REPO} at depth ${DEPTH}: ${mirror.served} of ${file.length} bytes served (${((100 * mirror.served) / file.length).toFixed(1)} %)`,
    );

    // What is kept is the image tower's tensors, byte for byte, and nothing else.
    const keptHeader = readHeader(kept);
    expect(keptHeader.entries.map((e) => e.name).sort()).toEqual(imageTower.map((e) => e.name).sort());
    expect(keptHeader.metadata).toEqual(header.metadata);
    for (const e of keptHeader.entries) {
      const from = header.entries.find((f) => f.name === e.name)!;
      const bytes = kept.subarray(keptHeader.dataStart + e.begin, keptHeader.dataStart + e.end);
      expect(same(bytes, file.subarray(header.dataStart + from.begin, header.dataStart + from.end)), e.name).toBe(true);
    }

    const whole = loadModelFile(file, { hfConfig, headOptional: true });
    const tower = loadModelFile(kept, { hfConfig, headOptional: true });
    expect(whole.changes[0]).toMatch(
      /^logit_scale, text_model\.\* \(\d+ tensors\), text_projection\.weight, visual_projection\.weight left unused/,
    );
    expect(tower.changes).toEqual(['no classifier head in the file: a run makes one of its classes']);
    expect(tower.config).toEqual(whole.config);
    expect(tower.config).toMatchObject({ depth: DEPTH, preNorm: true, activation: 'quick-gelu', patchBias: false });
    expect([...tower.weights.keys()]).toEqual([...whole.weights.keys()]);
    for (const [name, t] of whole.weights) expect(same(tower.weights.get(name)!.data, t.data), name).toBe(true);
  });

  it('comes whole from a server without Range requests', async () => {
    mirror.requests.length = 0;
    mirror.served = 0;
    mirror.ranges = false;
    try {
      const { weights } = await downloadZooModel(entry, mirror.base);
      expect(same(new Uint8Array(await weights.arrayBuffer()), file)).toBe(true);
    } finally {
      mirror.ranges = true;
    }
    // The first range's answer is the whole file, read no further than the client takes before it stops.
    expect(paths()).toEqual([
      `200 /${REPO}/resolve/main/config.json`,
      `302 /${REPO}/resolve/main/model.safetensors bytes=0-7`,
      '200 /cdn/<hash> bytes=0-7',
      `302 /${REPO}/resolve/main/model.safetensors`,
      '200 /cdn/<hash>',
    ]);
  });
});
