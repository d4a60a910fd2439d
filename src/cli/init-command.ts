// `stochca init`: a ViT initialised from scratch, saved with timm names and full metadata,
// so that `stochca train` can pretrain it like any other checkpoint.
import { saveModelFile } from '../checkpoint/model-file.ts';
import { checkConfig, type CheckpointConfig } from '../checkpoint/checkpoint-config.ts';
import { seededRng } from '../nn/rng.ts';
import { initVitWeights } from '../nn/vit-init.ts';

export function initCommand(
  config: CheckpointConfig,
  seed: number,
): { file: Uint8Array; parameters: number; config: CheckpointConfig } {
  checkConfig(config);
  const weights = initVitWeights(config, seededRng(seed));
  const parameters = [...weights.values()].reduce((n, t) => n + t.data.length, 0);
  return { file: saveModelFile({ config, naming: 'timm', weights }), parameters, config };
}
