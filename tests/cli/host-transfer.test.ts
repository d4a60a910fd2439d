// The command line's Chromium host takes and gives back arrays larger than one page.evaluate can carry
// (an 84 MiB DINOv2 ViT-S/14 file crashed the page), in pieces of PIECE bytes: a model of several pieces
// goes in, its weights and AdamW moments come back, and the weights go in again to be saved as a file, bit
// for bit.
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { fromCanonical } from '../../src/checkpoint/convert.ts';
import { parseSafetensors, writeSafetensors } from '../../src/checkpoint/safetensors.ts';
import { openEngineHost, type EngineHost } from '../../src/cli/engine-host.ts';
import { PIECE } from '../../src/cli/host-transfer.ts';
import type { HostTensor } from '../../src/gpu/tensor.ts';
import type { VitArch } from '../../src/nn/vit-arch.ts';
import { vitParamSpecs } from '../../src/nn/vit-params.ts';
import { completeExperiment } from '../../src/train/settings.ts';

// 7.7 M parameters (31 MB) in a block of ViT-B's width, on one 16 px patch: moving it is all the work.
const c: VitArch = {
  imageSize: 16,
  patchSize: 16,
  dim: 768,
  depth: 1,
  heads: 12,
  mlpDim: 3072,
  numClasses: 2,
  layerNormEps: 1e-6,
};

/** The engine's tensors of `c`, each value a distinct float (xorshift32), so a misplaced piece shows. */
function weights(): Map<string, HostTensor> {
  let x = 7;
  return new Map(
    vitParamSpecs(c).map((s) => {
      const data = new Float32Array(s.shape.reduce((a, b) => a * b, 1));
      for (let i = 0; i < data.length; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        data[i] = ((x >>> 0) / 2 ** 32 - 0.5) * 0.04;
      }
      return [s.name, { shape: s.shape, data }];
    }),
  );
}

let host: EngineHost;
const saved = { ...process.env };
beforeAll(async () => {
  process.env.STOCHCA_HOST = 'chromium';
  process.env.STOCHCA_HOST_PAGE = inject('hostPage');
  host = await openEngineHost();
});
afterAll(async () => {
  await host?.close();
  process.env = saved;
});

describe("the command line's Chromium host", () => {
  it('takes a model of several pieces, and gives back its weights, moments and saved file whole', async () => {
    const tensors = fromCanonical(weights(), 'timm');
    const model = writeSafetensors(tensors, {
      metadata: { stochca_config: JSON.stringify(c), stochca_class_names: JSON.stringify(['a', 'b']) },
    });
    expect(model.byteLength).toBeGreaterThan(3 * PIECE);
    const { model: _m, data: _d, ...settings } = completeExperiment({ method: 'finetune', batch: 1 });
    const started = await host.call('trainStart', { model, classNames: ['a', 'b'], imageSize: 0, settings });
    expect(started.parameters).toBeGreaterThan(3 * (PIECE / 4));

    const state = await host.call('trainState');
    for (const moments of [state.m, state.v]) {
      expect(moments).toBeInstanceOf(Float32Array);
      expect(moments.length).toBe(state.weights.length);
      expect(moments.every((x) => x === 0)).toBe(true);
    }
    const file = await host.call('trainSave', state.weights);
    const back = parseSafetensors(file).tensors;
    expect([...back.keys()].sort()).toEqual([...tensors.keys()].sort());
    for (const [name, t] of tensors) {
      const b = back.get(name)!;
      expect(b.shape, name).toEqual(t.shape);
      expect(Buffer.from((b.data as Float32Array).buffer).equals(Buffer.from(t.data.buffer)), name).toBe(true);
    }
  }, 300_000);
});
