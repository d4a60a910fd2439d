import type { AdapterSummary } from '../gpu/gpu.ts';
import { useStore } from './store.ts';

const MiB = 1024 * 1024;

export function AdapterPanel({ adapter }: { adapter: AdapterSummary }) {
  const name = [adapter.vendor, adapter.architecture, adapter.description].filter(Boolean).join(' · ');
  const persisted = useStore((s) => s.storagePersisted);
  return (
    <section aria-label="GPU adapter" data-testid="adapter">
      <h2>GPU</h2>
      <p>
        WebGPU adapter: <strong data-testid="adapter-name">{name || 'unnamed adapter'}</strong>
      </p>
      <dl>
        <dt>Largest buffer</dt>
        <dd>{Math.floor(adapter.limits.maxBufferSize / MiB)} MiB</dd>
        <dt>Largest storage binding</dt>
        <dd>{Math.floor(adapter.limits.maxStorageBufferBindingSize / MiB)} MiB</dd>
        <dt>Workgroup memory</dt>
        <dd>{adapter.limits.maxComputeWorkgroupStorageSize / 1024} KiB</dd>
        <dt>Features</dt>
        <dd>{adapter.features.join(', ') || 'none'}</dd>
        <dt>Storage</dt>
        <dd data-testid="storage-persisted">
          {persisted === undefined
            ? 'asking the browser…'
            : persisted
              ? 'persistent: runs and checkpoints stay until you delete them'
              : 'best effort: the browser may clear runs and checkpoints when disk space runs low'}
        </dd>
      </dl>
    </section>
  );
}
