// The playground shell: finds the GPU, then shows what the engine will run on.
import { useEffect, useState } from 'react';
import { requestBrowserGpu } from '../gpu/device-browser.ts';
import { NoWebGPUError } from '../gpu/errors.ts';
import type { AdapterSummary } from '../gpu/gpu.ts';
import { AdapterPanel } from './AdapterPanel.tsx';
import { NoWebGPU } from './NoWebGPU.tsx';

type GpuState = { kind: 'probing' } | { kind: 'ready'; adapter: AdapterSummary } | { kind: 'missing'; message: string };

export function App() {
  const [gpu, setGpu] = useState<GpuState>({ kind: 'probing' });

  useEffect(() => {
    let cancelled = false;
    requestBrowserGpu().then(
      (g) => {
        if (!cancelled) setGpu({ kind: 'ready', adapter: g.adapter });
        g.destroy(); // the training worker creates its own device
      },
      (e: unknown) => {
        const message = e instanceof NoWebGPUError ? e.message : `WebGPU failed to start: ${String(e)}`;
        if (!cancelled) setGpu({ kind: 'missing', message });
      },
    );
    return () => {
      cancelled = true;
    };
  }, []);

  return (
    <main>
      <h1>StochCA Playground</h1>
      <p className="lede">
        Fine-tune a pretrained Vision Transformer on your own images, on your own GPU, with StochCA: stochastic
        cross-attention to a frozen copy of the pretrained model. Nothing leaves this machine.
      </p>
      {gpu.kind === 'probing' && <p role="status">Looking for a WebGPU adapter…</p>}
      {gpu.kind === 'ready' && <AdapterPanel adapter={gpu.adapter} />}
      {gpu.kind === 'missing' && <NoWebGPU message={gpu.message} />}
    </main>
  );
}
