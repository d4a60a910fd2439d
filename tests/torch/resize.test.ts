// Position-embedding resizing against PyTorch's own interpolate on the same values: bicubic with
// align_corners=True (torchvision) and False (timm, transformers), and antialiased (timm's
// resample_abs_pos_embed, transformers' DINOv2), shrinking DINOv2's 37 × 37 grid to 224 px's 16 × 16 and
// growing 4 × 4 to 7 × 7. Skipped, saying so, where Debian's python3-torch is not installed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resizePosEmbedding, type ResizeOptions } from '../../src/checkpoint/resize.ts';
import { normal } from '../helpers/random.ts';
import { python, torchMissing } from '../helpers/torch.ts';

const SCRIPT = String.raw`
import json, sys
import torch
import torch.nn.functional as F
with open(sys.argv[1]) as f:
    d = json.load(f)
G, D, out = d['G'], d['D'], d['out']
grid = torch.tensor(d['grid'], dtype=torch.float32).reshape(1, G, G, D).permute(0, 3, 1, 2)
results = {}
for name, kw in [('torchvision', dict(align_corners=True)), ('timm', dict(align_corners=False)),
                 ('antialias', dict(align_corners=False, antialias=True))]:
    r = F.interpolate(grid, size=(out, out), mode='bicubic', **kw)
    results[name] = r.permute(0, 2, 3, 1).reshape(-1).tolist()
print(json.dumps(results))
`;

const dir = mkdtempSync(join(tmpdir(), 'stochca-resize-'));

const OPTIONS: Record<string, ResizeOptions> = {
  torchvision: { alignCorners: true },
  timm: { alignCorners: false },
  antialias: { alignCorners: false, antialias: true },
};

describe.skipIf(torchMissing !== '')(`resizing the position embedding as PyTorch does${torchMissing}`, () => {
  for (const [G, out] of [
    [37, 16],
    [4, 7],
  ]) {
    it(`${G} × ${G} → ${out} × ${out}: bicubic with and without align_corners, and antialiased`, async () => {
      const D = 6;
      const data = normal((1 + G * G) * D, G);
      const input = join(dir, `grid-${G}.json`);
      writeFileSync(input, JSON.stringify({ G, D, out, grid: [...data.slice(D)] }));
      const r = await python(['-c', SCRIPT, input]);
      expect(r.code, r.stderr).toBe(0);
      const torch = JSON.parse(r.stdout) as Record<string, number[]>;
      for (const [name, options] of Object.entries(OPTIONS)) {
        const ours = resizePosEmbedding({ shape: [1 + G * G, D], data: Float32Array.from(data) }, out, options);
        expect(ours.shape).toEqual([1 + out * out, D]);
        expect([...ours.data.subarray(0, D)]).toEqual([...Float32Array.from(data.subarray(0, D))]);
        const err = Math.max(...torch[name].map((v, i) => Math.abs(v - ours.data[D + i])));
        console.log(`${G} → ${out}, ${name}: largest difference from PyTorch ${err.toExponential(1)}`);
        expect(err, name).toBeLessThan(3e-5);
      }
    });
  }
});
