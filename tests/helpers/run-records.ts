// Run records for the page's tests (the store's, and e2e pages started from kept runs): made by the
// page's own newRuns from the default experiment,
// with curves, a run's info and predictions as the worker would report them; and a training worker
// that records what the trainer sends it and answers as a test tells it to.
import type { EvalPoint, Prediction, RunInfo, TrainPoint } from '../../src/train/records.ts';
import { defaultExperiment } from '../../src/train/settings.ts';
import { newRuns, settingsOf } from '../../src/app/runs/new-runs.ts';
import type { RunRecord } from '../../src/app/runs/run-record.ts';
import type { TrainingWorker } from '../../src/app/runs/trainer.ts';
import type { AppStore } from '../../src/app/store.ts';
import type { DatasetSource } from '../../src/data/dataset-source.ts';
import type { FromWorker, ToWorker } from '../../src/worker/protocol.ts';

/** The dataset the page's tests load: an empty zip (the tests' worker never reads it). */
export const source: DatasetSource = { kind: 'zip', name: 'd.zip', blob: new Blob([]) };

/** Marks a model and a two-class dataset (`source`) as loaded in `store`, as the panels do once they load them. */
export function loadSources(store: Pick<AppStore, 'getState'>): void {
  const s = store.getState();
  s.modelReady({ ref: s.experiment.model, name: 'm', bytes: new ArrayBuffer(16), sha256: 'ab'.repeat(32) });
  s.dataReady({
    ref: s.experiment.data,
    name: 'd',
    source,
    classes: ['a', 'b'],
    perClass: [5, 5],
    counts: { train: 10, val: 0, test: 0 },
    leftOut: [],
    problems: [],
    thumbnails: [],
  });
}

export const trainPoint = (step: number): TrainPoint => ({
  step,
  loss: 1 / step,
  accuracy: step / 100,
  lr: 0.001,
  mask: '0101',
  seconds: step / 2,
  epoch: 0,
  imagesPerSec: 16,
});

export const evalPoint = (step: number, accuracy: number): EvalPoint => ({
  step,
  loss: 1 - accuracy,
  accuracy,
  count: 60,
});

export function runInfo(classes = ['a', 'b']): RunInfo {
  return {
    config: {
      imageSize: 28,
      patchSize: 7,
      dim: 32,
      depth: 4,
      heads: 4,
      mlpDim: 64,
      numClasses: classes.length,
      layerNormEps: 1e-6,
      channels: 3,
    },
    parameters: 1000,
    plannedBytes: 0,
    microBatch: 8,
    classes,
    counts: { train: 10, val: 4, test: 0 },
    changes: [],
    leftOut: [],
    problems: [],
    normalization: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
  };
}

/** Predictions of the confusion matrix `m` ([label][predicted] counts), without pictures. */
export function predictionsOf(m: number[][]): Prediction[] {
  return m.flatMap((row, label) =>
    row.flatMap((n, predicted) =>
      Array.from({ length: n }, (_, i) => ({ label, predicted, confidence: 0.5 + i / 100, path: `${label}/${i}.png` })),
    ),
  );
}

/** A run of the default experiment, as a new run of the page is, changed by `patch`. */
export function runRecord(patch: Partial<RunRecord> = {}, existing: RunRecord[] = []): RunRecord {
  const e = defaultExperiment();
  const [run] = newRuns(existing, e, 'ab'.repeat(32), [settingsOf(e)]);
  return { ...run, ...patch };
}

/** The training worker's side of the protocol, played by the test. */
export class FakeWorker implements TrainingWorker {
  sent: ToWorker[] = [];
  onmessage: TrainingWorker['onmessage'] = null;
  onerror: TrainingWorker['onerror'] = null;
  postMessage(m: ToWorker) {
    this.sent.push(m);
  }
  answer(m: FromWorker) {
    this.onmessage?.call(this as unknown as Worker, { data: m } as MessageEvent<FromWorker>);
  }
  starts = () => this.sent.filter((m) => m.type === 'start');
}
