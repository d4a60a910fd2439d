// Train, Compare with its number of seeds, and the controls of the run in progress, then the run settings:
// one input per experiment property, checked as it is typed, with the message beside the field.
import { PROPERTIES, PROPERTY_LIST, type AnyProperty, type ExperimentKey } from '../../train/settings.ts';
import { useTrainer } from '../runs/trainer-context.ts';
import { useStore } from '../store.ts';
import { activeRun, cannotRun } from '../store/selectors.ts';

const HINTS: Partial<Record<ExperimentKey, string>> = {
  method: 'head only: the linear probe, the new head trained on the frozen pretrained model',
  p: 'probability that a block cross-attends to the frozen pretrained model',
  imageSize: '0 = the checkpoint’s own',
  fraction: 'share of each class’s training images kept',
  valFraction: 'drawn from the training images when there is no val/ folder',
  clip: 'largest global gradient norm; 0 = no clipping',
  wdExempt: 'biases, LayerNorm, position embedding and class token (timm’s convention)',
  seeds: 'Compare runs each method on seed, seed + 1, … and sums them up in the runs table',
};

/** The words a choice shows where its value is not plain enough. */
const CHOICE_TEXT: Record<string, string> = { 'linear-probe': 'head only' };

/** `inline`: label, input and message on one line, beside the buttons (the seeds of Compare). */
function Field({ prop, inline }: { prop: AnyProperty; inline?: boolean }) {
  const key = prop.key;
  const value = useStore((s) => s.drafts[key] ?? prop.format(s.experiment[key] as never));
  const error = useStore((s) => s.errors[key]);
  const setField = useStore((s) => s.setField);
  const id = `field-${key}`;
  let input;
  if (prop.type === 'choice') {
    input = (
      <select id={id} value={value} onChange={(e) => setField(key, e.target.value)}>
        {prop.choices!.map((c) => (
          <option key={c} value={c}>
            {CHOICE_TEXT[c] ?? c}
          </option>
        ))}
      </select>
    );
  } else if (prop.type === 'boolean') {
    input = (
      <input
        id={id}
        type="checkbox"
        checked={value === 'true'}
        onChange={(e) => setField(key, String(e.target.checked))}
      />
    );
  } else {
    input = (
      <input
        id={id}
        inputMode="decimal"
        size={inline ? 2 : undefined}
        value={value}
        aria-invalid={!!error}
        onChange={(e) => setField(key, e.target.value)}
      />
    );
  }
  return (
    <div className={inline ? 'field inline' : 'field'} title={inline ? HINTS[key] : undefined}>
      <label htmlFor={id}>{prop.label}</label>
      {input}
      {error ? (
        <span className="error" role="alert" data-testid={`error-${key}`}>
          {error}
        </span>
      ) : (
        !inline && HINTS[key] && <small>{HINTS[key]}</small>
      )}
    </div>
  );
}

export function RunPanel() {
  const trainer = useTrainer();
  const status = useStore((s) => activeRun(s)?.status);
  const blocked = useStore(cannotRun);
  const probe = useStore((s) => s.experiment.method === 'linear-probe');
  const fields = PROPERTY_LIST.filter((p) => p.type !== 'model' && p.type !== 'data' && p.key !== 'seeds');
  return (
    <section aria-label="Run" className="panel" data-testid="run-panel">
      <h2>Run</h2>
      <div className="row">
        <button
          type="button"
          className="primary"
          disabled={!!blocked}
          onClick={() => trainer.train()}
          data-testid="train"
        >
          Train
        </button>
        <button type="button" disabled={!!blocked} onClick={() => trainer.compare()} data-testid="compare">
          {probe ? 'Compare StochCA, fine-tuning and head only' : 'Compare StochCA vs fine-tuning'}
        </button>
        <Field prop={PROPERTIES.seeds} inline />
        {status === 'running' && (
          <button type="button" onClick={() => trainer.pause()} data-testid="pause">
            Pause
          </button>
        )}
        {status === 'paused' && (
          <button type="button" onClick={() => trainer.resume()} data-testid="resume">
            Resume
          </button>
        )}
        {status && (
          <button type="button" onClick={() => trainer.stop()} data-testid="stop">
            Stop
          </button>
        )}
        {blocked && <small>{blocked}</small>}
      </div>
      <div className="fields">
        {fields.map((p) => (
          <Field key={p.key} prop={p} />
        ))}
      </div>
    </section>
  );
}
