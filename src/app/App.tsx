// The playground: finds the GPU, starts the page (page-start.ts: the runs kept in this browser, the
// experiment in the link or the built-in model and dataset), then shows the panels: the setup (data, run, model) in a
// column beside the results, whose curves and attention maps come first.
import { useEffect, useState } from 'react';
import { requestBrowserGpu } from '../gpu/device-browser.ts';
import { NoWebGPUError } from '../gpu/errors.ts';
import type { AdapterSummary } from '../gpu/gpu.ts';
import { AdapterPanel } from './AdapterPanel.tsx';
import { AttentionPanel } from './attention/AttentionPanel.tsx';
import { CurveCharts } from './charts/CurveCharts.tsx';
import { NoWebGPU } from './NoWebGPU.tsx';
import { Notices } from './Notices.tsx';
import { DataPanel } from './panels/DataPanel.tsx';
import { ModelPanel } from './panels/ModelPanel.tsx';
import { RunPanel } from './panels/RunPanel.tsx';
import { ConfusionMatrix } from './runs/ConfusionMatrix.tsx';
import { Gallery } from './runs/Gallery.tsx';
import { RunProgress, RunsPanel } from './runs/RunsPanel.tsx';
import { SharePanel } from './share/SharePanel.tsx';

type GpuState = { kind: 'probing' } | { kind: 'ready'; adapter: AdapterSummary } | { kind: 'missing'; message: string };

/** `start`: the page's start (page-start.ts), once the GPU is found. */
export function App({ start }: { start: () => Promise<void> }) {
  const [gpu, setGpu] = useState<GpuState>({ kind: 'probing' });

  useEffect(() => {
    let cancelled = false;
    requestBrowserGpu().then(
      async (g) => {
        g.destroy(); // the training worker creates its own device
        // The panels appear once the link's (or the default) model and dataset have started loading, so a
        // file the person drops at once is the one that stays: a later start would replace it.
        await start();
        if (!cancelled) setGpu({ kind: 'ready', adapter: g.adapter });
      },
      (e: unknown) => {
        const message = e instanceof NoWebGPUError ? e.message : `WebGPU failed to start: ${String(e)}`;
        if (!cancelled) setGpu({ kind: 'missing', message });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [start]);

  return (
    <main>
      <header className="top">
        <h1>StochCA Playground</h1>
        <p className="lede">
          Fine-tune a pretrained Vision Transformer on your own images, on your own GPU, with StochCA: stochastic
          cross-attention to a frozen copy of the pretrained model. Nothing leaves this machine.
        </p>
      </header>
      {gpu.kind === 'probing' && <p role="status">Looking for a WebGPU adapter…</p>}
      {gpu.kind === 'missing' && <NoWebGPU message={gpu.message} />}
      {gpu.kind === 'ready' && (
        <>
          <Notices />
          <div className="layout">
            <aside className="setup" aria-label="Setup">
              <DataPanel />
              <RunPanel />
              <ModelPanel limits={gpu.adapter.limits} />
            </aside>
            <div className="results">
              <RunProgress />
              <CurveCharts />
              <AttentionPanel />
              <RunsPanel />
              <ConfusionMatrix />
              <Gallery />
              <SharePanel />
              <AdapterPanel adapter={gpu.adapter} />
            </div>
          </div>
        </>
      )}
    </main>
  );
}
