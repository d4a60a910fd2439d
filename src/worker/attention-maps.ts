// The class token's attention maps of one image in each of several models, on the worker's device:
// each model as an evaluation session of batch 1 (model-runner.ts's readClassAttention, never an
// N×N matrix), its weights read from the page's bytes or from the run's checkpoint in OPFS.
import { loadModelFile, type ModelFile } from '../checkpoint/model-file.ts';
import type { Gpu } from '../gpu/gpu.ts';
import { vitDims } from '../nn/vit-arch.ts';
import { loadStartingModel, normalizationOf } from '../train/engine-api.ts';
import { loadRunModel } from '../train/opfs-store.ts';
import { EvalSession } from '../train/session.ts';
import { effectiveP } from '../train/settings.ts';
import type { AttentionMaps, AttentionModel } from './protocol.ts';

async function modelOf(m: AttentionModel): Promise<ModelFile> {
  if (m.kind === 'pretrained') {
    const settings = { ...m.settings, p: effectiveP(m.settings) };
    return loadStartingModel({
      model: new Uint8Array(m.model),
      classNames: m.classNames,
      imageSize: m.settings.imageSize,
      settings,
    });
  }
  const bytes = await loadRunModel(m.runId, 'final');
  if (!bytes)
    throw new Error("the run's model is not in this browser's storage (deleted, or the run never saved a checkpoint)");
  return loadModelFile(bytes);
}

/** pixels: RGBA [S, S, 4] at every model's input size S. */
export async function attentionMaps(gpu: Gpu, pixels: Uint8Array, models: AttentionModel[]): Promise<AttentionMaps[]> {
  const out: AttentionMaps[] = [];
  for (const m of models) {
    const model = await modelOf(m);
    const c = model.config;
    if (pixels.length !== c.imageSize * c.imageSize * 4) {
      throw new RangeError(`the image has ${pixels.length / 4} pixels; the model takes ${c.imageSize}×${c.imageSize}`);
    }
    const session = new EvalSession(gpu, model, 1, normalizationOf(model));
    // The session reads pixels as one u32 per RGBA pixel; the copy aligns them to 4 bytes.
    const { maps, logits } = await session.attention(new Uint32Array(pixels.slice().buffer), 1);
    const { N, H, R } = vitDims(c);
    out.push({ depth: c.depth, heads: H, tokens: N, registers: R, maps, logits });
  }
  return out;
}
