// Parses a model file off the page's main thread: the safetensors parse, the name mapping and the
// checks take seconds for a large ViT and would freeze the page. The bytes come in and go back out
// transferred, not copied; model-source.ts is the page's side.
import type { CheckpointConfig } from '../../checkpoint/checkpoint-config.ts';
import { loadModelFile, saveModelFile } from '../../checkpoint/model-file.ts';

export interface ParseRequest {
  bytes: ArrayBuffer;
  /** A parsed config.json, folded into the file's metadata so the training worker needs only bytes. */
  hfConfig?: unknown;
}

export type ParseReply =
  | { ok: true; bytes: ArrayBuffer; config: CheckpointConfig; parameters: number; classNames?: string[] }
  | { ok: false; message: string };

self.onmessage = ({ data: { bytes, hfConfig } }: MessageEvent<ParseRequest>) => {
  let reply: ParseReply;
  try {
    const model = loadModelFile(bytes, { hfConfig });
    const own = hfConfig === undefined ? bytes : (saveModelFile(model).buffer as ArrayBuffer);
    const parameters = [...model.weights.values()].reduce((n, t) => n + t.data.length, 0);
    reply = { ok: true, bytes: own, config: model.config, parameters, classNames: model.classNames };
  } catch (e) {
    reply = { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
  (self as unknown as Worker).postMessage(reply, reply.ok ? [reply.bytes] : []);
};
