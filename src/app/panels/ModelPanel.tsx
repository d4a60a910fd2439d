// The model: built-in, dropped/picked .safetensors (+ config.json), or a URL fetched on request.
import { useState } from 'react';
import { describeConfig } from '../../checkpoint/checkpoint-config.ts';
import { checkPlanFits, planVit, type DeviceLimits } from '../../nn/planner.ts';
import { BUILTIN_MODELS } from '../../train/builtins.ts';
import { loadBuiltinModel, loadModelFiles, loadModelUrl } from '../sources/model-source.ts';
import { useStore } from '../store.ts';
import { DownloadStatus } from './DownloadStatus.tsx';
import { DropZone } from './DropZone.tsx';

const MiB = 2 ** 20;

/** `limits`: the adapter's, so a run too large for it is refused here, before Train. */
export function ModelPanel({ limits }: { limits: DeviceLimits }) {
  const model = useStore((s) => s.model);
  const experiment = useStore((s) => s.experiment);
  const classes = useStore((s) => s.data.classes.length);
  const [url, setUrl] = useState('');

  let memory: string | undefined;
  let fits = true;
  if (model.config) {
    try {
      const config = { ...model.config, numClasses: classes || model.config.numClasses, imageSize: experiment.imageSize || model.config.imageSize };
      const { imageSize: size, patchSize: patch } = config;
      if (size % patch !== 0) {
        const below = size - (size % patch);
        throw new RangeError(`The image size ${size} is not a multiple of this model's patch size ${patch}: use ${below || patch} or ${below + patch}.`);
      }
      const teacher = experiment.method === 'stochca' && experiment.p > 0;
      const plan = planVit(config, { batch: experiment.batch, training: true, teacher });
      checkPlanFits(plan, limits);
      memory = `${(plan.bytes.total / MiB).toFixed(1)} MiB of GPU memory for this run (batch ${experiment.batch}${teacher ? ', with the frozen teacher' : ''})`;
    } catch (e) {
      fits = false;
      memory = e instanceof Error ? e.message : String(e);
    }
  }

  return (
    <section aria-label="Model" data-testid="model-panel" className="panel">
      <h2>Model</h2>
      <div className="row">
        {Object.entries(BUILTIN_MODELS).map(([id, m]) => (
          <button key={id} type="button" onClick={() => void loadBuiltinModel(id)} aria-pressed={model.ref.kind === 'builtin' && model.ref.id === id}>
            {m.name}
          </button>
        ))}
      </div>
      <DropZone
        label="Drop a .safetensors checkpoint (with its config.json), or"
        accept=".safetensors,.json"
        testId="model-drop"
        onFiles={(files) => void loadModelFiles(files)}
      />
      <form className="row" onSubmit={(e) => (e.preventDefault(), void loadModelUrl(url.trim()))}>
        <input type="url" placeholder="https://…/model.safetensors" value={url} onChange={(e) => setUrl(e.target.value)} aria-label="Model URL" />
        <button type="submit" disabled={!url.trim()}>Fetch</button>
      </form>
      {model.status === 'loading' && (model.download ? <DownloadStatus panel="model" name={model.name} progress={model.download} /> : <p role="status">Loading {model.name}…</p>)}
      {model.status === 'error' && <p role="alert" className="error">{model.message}</p>}
      {model.status === 'ready' && model.config && (
        <dl data-testid="model-info">
          <dt>Loaded</dt>
          <dd data-testid="model-name">{model.name}</dd>
          <dt>Architecture</dt>
          <dd>{describeConfig(model.config)}</dd>
          <dt>Parameters</dt>
          <dd>{model.parameters?.toLocaleString('en')}</dd>
          <dt>Memory</dt>
          <dd data-testid="model-memory" className={fits ? undefined : 'error'}>{memory}</dd>
        </dl>
      )}
    </section>
  );
}
