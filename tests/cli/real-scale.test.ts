// `stochca train` at real scale: ViT-Ti/16 at 224 px, as `stochca init` writes it, fine-tuned
// with StochCA at p = 0.5 (so the teacher runs) on 256×256 JPEGs of real digits. The training
// images are one per class and the batch holds both, so every step sees the same images without
// augmentation and the loss falls at the second step; a step takes several seconds on SwiftShader, so
// there are two.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModelFile } from '../../src/checkpoint/model-file.ts';
import { removeTempDirs, tempDir } from '../data/fixtures.ts';
import { stochca } from '../helpers/cli.ts';
import { initVitTi16, mnistPhotos } from '../helpers/real-scale.ts';

afterAll(() => removeTempDirs());

describe('stochca train at real scale', () => {
  it('fine-tunes ViT-Ti/16 at 224 px with StochCA on photo-sized JPEGs, and the loss falls', async () => {
    const dir = await tempDir();
    const [model, data] = await Promise.all([initVitTi16(dir), mnistPhotos(['0', '1'], 2)]);
    const out = join(dir, 'run');
    // Two images per class, one of them drawn for validation. AdamW moves every one of the 5.5M weights
    // by about the learning rate at each step, so it is small: at 3e-5 the loss rises at the second step.
    const r = await stochca(
      'train',
      '--model',
      model,
      '--data',
      data,
      '--p',
      '0.5',
      '--batch',
      '2',
      '--steps',
      '2',
      '--warmup',
      '0',
      '--lr',
      '1e-5',
      '--wd',
      '0',
      '--crop',
      'none',
      '--val-fraction',
      '0.5',
      '--eval-every',
      '2',
      '--seed',
      '0',
      '--out',
      out,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('training 2 classes: 2 train, 2 val, 0 test images; stochca p=0.5');
    const curves = JSON.parse(readFileSync(join(out, 'curves.json'), 'utf8'));
    const losses: number[] = curves.train.map((s: { loss: number }) => s.loss);
    console.log(
      `ViT-Ti/16 224 px, batch 2: losses ${losses.map((l) => l.toFixed(4)).join(' ')}; ` +
        `seconds at each step ${curves.train.map((s: { seconds: number }) => s.seconds.toFixed(1)).join(' ')}`,
    );
    expect(losses).toHaveLength(2);
    expect(losses[1], losses.join(' ')).toBeLessThan(losses[0]);
    // The teacher ran: blocks cross-attended to it.
    expect(curves.train.some((s: { mask: string }) => /^[01]{12}$/.test(s.mask) && s.mask.includes('1'))).toBe(true);
    expect(curves.eval.map((e: { step: number; count: number }) => [e.step, e.count])).toEqual([[2, 2]]);
    const saved = loadModelFile(readFileSync(join(out, 'model.safetensors')));
    expect(saved.config).toMatchObject({
      imageSize: 224,
      patchSize: 16,
      dim: 192,
      depth: 12,
      heads: 3,
      mlpDim: 768,
      numClasses: 2,
    });
    expect(saved.classNames).toEqual(['0', '1']);
  });
});
