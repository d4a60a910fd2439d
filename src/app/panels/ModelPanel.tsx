// The model: built-in, dropped/picked .safetensors (+ config.json), a URL fetched on request, or a model
// of the zoo (ZooList).
import { useState } from 'react';
import { describeConfig } from '../../checkpoint/checkpoint-config.ts';
import { chooseMicroBatch, type DeviceLimits } from '../../nn/planner.ts';
import { BUILTIN_MODELS } from '../../train/builtins.ts';
import { effectiveP, headOnly } from '../../train/settings.ts';
import { loadBuiltinModel, loadModelFiles, loadModelUrl } from '../sources/model-source.ts';
import { useStore } from '../store.ts';
import { DownloadStatus } from './DownloadStatus.tsx';
import { DropZone } from './DropZone.tsx';
import { ZooList } from './ZooList.tsx';
import { errorMessage } from '../../gpu/error-message.ts';

const MiB = 2 ** 20;

/** `limits`: the adapter's, so a run too large for it is refused here, before Train. */
export function ModelPanel({ limits }: { limits: DeviceLimits }) {
  const model = useStore((s) => s.model);
  const experiment = useStore((s) => s.experiment);
  const classes = useStore((s) => s.data.classes.length);
  const budget = useStore((s) => s.memoryBudgetMiB);
  const setMemoryBudget = useStore((s) => s.setMemoryBudget);
  const [url, setUrl] = useState('');
  const [budgetText, setBudgetText] = useState(budget === undefined ? '' : String(budget));
  const budgetValid = budgetText.trim() === '' || Number(budgetText) > 0;
  const setBudget = (text: string) => {
    setBudgetText(text);
    const n = Number(text);
    if (text.trim() === '') setMemoryBudget(undefined);
    else if (n > 0 && Number.isFinite(n)) setMemoryBudget(n);
  };

  let memory: string | undefined;
  let fits = true;
  if (model.config) {
    try {
      const config = {
        ...model.config,
        numClasses: classes || model.config.numClasses,
        imageSize: experiment.imageSize || model.config.imageSize,
      };
      const { imageSize: size, patchSize: patch } = config;
      if (size % patch !== 0) {
        const below = size - (size % patch);
        throw new RangeError(
          `The image size ${size} is not a multiple of this model's patch size ${patch}: use ${below || patch} or ${below + patch}.`,
        );
      }
      const teacher = effectiveP(experiment) > 0;
      const probe = headOnly(experiment);
      const { microBatch, plan } = chooseMicroBatch(
        config,
        experiment.batch,
        teacher,
        limits,
        budget === undefined ? undefined : budget * MiB,
        probe,
      );
      const micro =
        microBatch < experiment.batch
          ? `; micro-batches of ${microBatch}, gradients summed over ${experiment.batch / microBatch}`
          : '';
      memory = `${(plan.bytes.total / MiB).toFixed(1)} MiB of GPU memory for this run (batch ${experiment.batch}${teacher ? ', with the frozen teacher' : probe ? ', the head alone trained' : ''}${micro})`;
    } catch (e) {
      fits = false;
      memory = errorMessage(e);
    }
  }

  return (
    <section aria-label="Model" data-testid="model-panel" className="panel">
      <h2>Model</h2>
      <div className="row">
        {Object.entries(BUILTIN_MODELS).map(([id, m]) => (
          <button
            key={id}
            type="button"
            onClick={() => void loadBuiltinModel(id)}
            aria-pressed={model.ref.kind === 'builtin' && model.ref.id === id}
          >
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
        <input
          type="url"
          placeholder="https://…/model.safetensors"
          value={url}
          onChange={(e) => setUrl(e.target.value)}
          aria-label="Model URL"
        />
        <button type="submit" disabled={!url.trim()}>
          Fetch
        </button>
      </form>
      <ZooList />
      {model.status === 'loading' &&
        (model.download ? (
          <DownloadStatus panel="model" name={model.name} progress={model.download} />
        ) : (
          <p role="status">Loading {model.name}…</p>
        ))}
      {model.status === 'error' && (
        <p role="alert" className="error">
          {model.message}
        </p>
      )}
      {model.status === 'ready' && model.config && (
        <dl data-testid="model-info">
          <dt>Loaded</dt>
          <dd data-testid="model-name">{model.name}</dd>
          <dt>Architecture</dt>
          <dd>{describeConfig(model.config)}</dd>
          <dt>Parameters</dt>
          <dd>{model.parameters?.toLocaleString('en')}</dd>
          {model.changes?.length ? (
            <>
              <dt>On load</dt>
              <dd data-testid="model-changes">{model.changes.join('; ')}</dd>
            </>
          ) : null}
          <dt>Memory</dt>
          <dd data-testid="model-memory" className={fits ? undefined : 'error'}>
            {memory}
          </dd>
        </dl>
      )}
      <div className="field">
        <label htmlFor="memory-budget">GPU memory budget (MiB)</label>
        <input
          id="memory-budget"
          inputMode="decimal"
          placeholder="what the adapter allows"
          value={budgetText}
          aria-invalid={!budgetValid}
          onChange={(e) => setBudget(e.target.value)}
          data-testid="memory-budget"
        />
        {budgetValid ? (
          <small>a batch larger than this runs in micro-batches; the optimizer still sees the whole batch</small>
        ) : (
          <span className="error" role="alert">
            the budget must be a number of MiB above 0
          </span>
        )}
      </div>
    </section>
  );
}
