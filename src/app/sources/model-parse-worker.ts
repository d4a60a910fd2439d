// Parses a model file off the page's main thread: the safetensors parse, the name mapping and the
// checks take seconds for a large ViT and would freeze the page. The bytes come in and go back out
// transferred, not copied; model-source.ts is the page's side.
import type { CheckpointConfig, Normalization } from '../../checkpoint/checkpoint-config.ts';
import { loadModelFile, saveModelFile } from '../../checkpoint/model-file.ts';
import { errorMessage } from '../../gpu/error-message.ts';

export interface ParseRequest {
  bytes: ArrayBuffer;
  /** A parsed config.json, folded into the file's metadata so the training worker needs only bytes. */
  hfConfig?: unknown;
  /** A zoo model's normalisation, folded in likewise. */
  normalization?: Normalization;
}

export type ParseReply =
  | {
      ok: true;
      bytes: ArrayBuffer;
      config: CheckpointConfig;
      parameters: number;
      classNames?: string[];
      changes: string[];
    }
  | { ok: false; message: string };

self.onmessage = ({ data: { bytes, hfConfig, normalization } }: MessageEvent<ParseRequest>) => {
  let reply: ParseReply;
  try {
    // A file without a head (HF's ViTModel) stays without one: the run makes its own, of the task's
    // classes and seeded by the run, as the command line does.
    const model = loadModelFile(bytes, { hfConfig, normalization, headOptional: true });
    const folded = hfConfig !== undefined || normalization !== undefined;
    const own = folded ? (saveModelFile(model).buffer as ArrayBuffer) : bytes;
    const parameters = [...model.weights.values()].reduce((n, t) => n + t.data.length, 0);
    reply = {
      ok: true,
      bytes: own,
      config: model.config,
      parameters,
      classNames: model.classNames,
      changes: model.changes,
    };
  } catch (e) {
    reply = { ok: false, message: errorMessage(e) };
  }
  (self as unknown as Worker).postMessage(reply, reply.ok ? [reply.bytes] : []);
};
