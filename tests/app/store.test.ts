// The page's store (src/app/store.ts and its slices): each action changes its slice as the panels and
// the trainer rely on, and the selectors in store/selectors.ts derive the active, selected and busy runs
// and why a run cannot start.
import { describe, expect, it } from 'vitest';
import { createAppStore } from '../../src/app/store.ts';
import { activeRun, busy, cannotRun, ownRuns, runById, selectedRun } from '../../src/app/store/selectors.ts';
import { newRuns, settingsOf } from '../../src/app/runs/new-runs.ts';
import { defaultExperiment } from '../../src/train/settings.ts';
import { evalPoint, runRecord, trainPoint } from '../helpers/run-records.ts';

describe('the setup slice', () => {
  it('keeps a field that does not hold as a draft with its message, and takes one that does', () => {
    const store = createAppStore();
    const before = store.getState().experiment;
    store.getState().setField('steps', 'abc');
    expect(store.getState().drafts.steps).toBe('abc');
    expect(store.getState().errors.steps).toMatch(/steps/i);
    expect(store.getState().experiment).toBe(before);
    store.getState().setField('steps', '12');
    expect(store.getState().experiment.steps).toBe(12);
    expect(store.getState().drafts).toEqual({});
    expect(store.getState().errors).toEqual({});
  });

  it('takes the loaded model or dataset into the experiment, leaving the rest', () => {
    const store = createAppStore();
    store.getState().setField('seed', '5');
    store.getState().adoptSources({ data: { kind: 'pack', id: 'fmnist' } });
    expect(store.getState().experiment).toMatchObject({ seed: 5, data: { kind: 'pack', id: 'fmnist' } });
    expect(store.getState().experiment.model).toEqual(defaultExperiment().model);
  });
});

describe('the sources slice', () => {
  it('a dataset of another ref starts empty; a failed load keeps nothing of the one before', () => {
    const store = createAppStore();
    const s = store.getState();
    s.dataLoading({ kind: 'pack', id: 'mnist' }, 'MNIST');
    expect(store.getState().data).toMatchObject({
      status: 'loading',
      name: 'MNIST',
      progress: 'reading the file list…',
    });
    s.dataReady({
      ref: { kind: 'pack', id: 'mnist' },
      name: 'MNIST digits',
      classes: ['0', '1'],
      perClass: [3, 4],
      counts: { train: 7, val: 0, test: 0 },
      leftOut: [],
      problems: [],
      thumbnails: ['', ''],
    });
    expect(store.getState().data).toMatchObject({ status: 'ready', classes: ['0', '1'], progress: undefined });
    s.dataLoading({ kind: 'url', url: 'https://example.org/d.zip' }, 'https://example.org/d.zip');
    expect(store.getState().data.classes).toEqual([]);
    s.dataFailed('https://example.org/d.zip: cancelled');
    expect(store.getState().data).toMatchObject({ status: 'error', message: 'https://example.org/d.zip: cancelled' });
  });

  it('a failed model load drops the bytes and hash of the model before', () => {
    const store = createAppStore();
    const s = store.getState();
    s.modelLoading({ kind: 'builtin', id: 'vit-fmnist' }, 'built in');
    s.modelReady({
      ref: { kind: 'builtin', id: 'vit-fmnist' },
      name: 'built in',
      bytes: new ArrayBuffer(8),
      sha256: 'x',
    });
    expect(store.getState().model.status).toBe('ready');
    s.modelFailed('nope');
    expect(store.getState().model).toMatchObject({
      status: 'error',
      bytes: undefined,
      sha256: undefined,
      message: 'nope',
    });
  });
});

describe('the runs slice', () => {
  it('adds runs selected and queued, and takes the queue in order', () => {
    const store = createAppStore();
    const a = runRecord();
    const b = runRecord({}, [a]);
    store.getState().addRuns([a, b], true);
    expect(store.getState().selected).toBe(a.id);
    expect(a.colour).not.toBe(b.colour);
    expect(store.getState().dequeue()).toBe(a.id);
    expect(store.getState().queue).toEqual([b.id]);
    store.getState().stopQueued();
    expect(store.getState().queue).toEqual([]);
    expect(store.getState().runs.map((r) => r.status)).toEqual(['stopped', 'stopped']);
  });

  it('changes one run and keeps every other run the same object (what the rows and persistence compare)', () => {
    const store = createAppStore();
    const a = runRecord({ status: 'running' });
    const b = runRecord({ status: 'finished' }, [a]);
    store.getState().addRuns([a, b], false);
    store.getState().appendPoints(a.id, [trainPoint(1), trainPoint(2)], [evalPoint(2, 0.5)], { checkpointStep: 2 });
    const [a2, b2] = store.getState().runs;
    expect(b2).toBe(b);
    expect(a2).toMatchObject({ checkpointStep: 2, val: [evalPoint(2, 0.5)] });
    expect(a2.train.map((p) => p.step)).toEqual([1, 2]);
    store.getState().appendPoints(a.id, [trainPoint(3)], []);
    expect(store.getState().runs[0].train.map((p) => p.step)).toEqual([1, 2, 3]);
  });

  it("restores kept runs after the page's, puts a link's before, and takes another tab's in place", () => {
    const store = createAppStore();
    const mine = runRecord();
    const kept = runRecord({ status: 'finished' }, [mine]);
    const shared = runRecord({ id: 'shared-0', status: 'shared' });
    store.getState().addRuns([mine], false);
    store.getState().restoreRuns([kept]);
    store.getState().addShared([shared]);
    expect(store.getState().runs.map((r) => r.id)).toEqual(['shared-0', mine.id, kept.id]);
    const changed = { ...kept, label: 'renamed' };
    store.getState().putStored(kept.id, changed);
    expect(store.getState().runs[2]).toBe(changed);
    store.getState().putStored(mine.id, undefined);
    expect(store.getState().runs.map((r) => r.id)).toEqual(['shared-0', kept.id]);
    const other = runRecord({ status: 'elsewhere' });
    store.getState().putStored(other.id, other);
    expect(store.getState().runs.at(-1)).toBe(other);
  });

  it('restores queued runs into the queue, in their order, after the queue of this tab', () => {
    const store = createAppStore();
    const mine = runRecord();
    store.getState().addRuns([mine], true);
    const interrupted = runRecord({ status: 'interrupted', checkpointStep: 10 });
    const second = runRecord({ createdAt: 2 });
    const third = runRecord({ createdAt: 3 });
    store.getState().restoreRuns([interrupted, second, third]);
    expect(store.getState().runs.map((r) => r.status)).toEqual(['queued', 'interrupted', 'queued', 'queued']);
    expect(store.getState().queue).toEqual([mine.id, second.id, third.id]);
  });

  it('does not queue the same runs twice while they wait or train, and queues other ones', () => {
    const store = createAppStore();
    const compare = (seed: number) => {
      const e = { ...defaultExperiment(), seed };
      const s = settingsOf(e);
      return newRuns(store.getState().runs, e, 'ab'.repeat(32), [
        { ...s, method: 'stochca' },
        { ...s, method: 'finetune' },
      ]);
    };
    expect(store.getState().queueRuns(compare(1))).toBe(true);
    expect(store.getState().queueRuns(compare(1))).toBe(false);
    expect(store.getState().runs).toHaveLength(2);
    store.getState().patchRun(store.getState().dequeue()!, { status: 'running' });
    expect(store.getState().queueRuns(compare(1))).toBe(false);
    expect(store.getState().queueRuns(compare(2))).toBe(true);
    expect(store.getState().queue).toHaveLength(3);
    // Once the first comparison is done, the same one may run again.
    store.getState().stopQueued();
    store.getState().patchRun(store.getState().runs[0].id, { status: 'finished' });
    expect(store.getState().queueRuns(compare(1))).toBe(true);
  });
});

describe('the view slice', () => {
  it('hides and shows a run on the charts', () => {
    const store = createAppStore();
    store.getState().showRun('a', false);
    store.getState().showRun('b', false);
    store.getState().showRun('a', true);
    expect(store.getState().view.hidden).toEqual(['b']);
  });

  it('gives each dropped image its own key, though name and pixels repeat', () => {
    const store = createAppStore();
    const image = { name: 'x.png', pixels: new Uint8Array(4), size: 1 };
    store.getState().inspectDropped(image);
    const first = store.getState().inspected;
    store.getState().inspectDropped(image);
    const second = store.getState().inspected;
    expect(first && 'key' in first && second && 'key' in second && first.key !== second.key).toBe(true);
  });

  it('adds several notices in one update, and none for none', () => {
    const store = createAppStore();
    let updates = 0;
    store.subscribe(() => updates++);
    store.getState().notify('one', 'two');
    store.getState().notify();
    expect(store.getState().notices).toEqual(['one', 'two']);
    expect(updates).toBe(1);
    store.getState().dismiss(0);
    expect(store.getState().notices).toEqual(['two']);
  });
});

describe('selectors', () => {
  it('the active run is the running or paused one; busy counts queued runs too', () => {
    const store = createAppStore();
    const queued = runRecord();
    store.getState().addRuns([queued], true);
    expect(activeRun(store.getState())).toBeUndefined();
    expect(busy(store.getState())).toBe(true);
    store.getState().patchRun(queued.id, { status: 'paused' });
    expect(activeRun(store.getState())?.id).toBe(queued.id);
    store.getState().patchRun(queued.id, { status: 'finished' });
    expect(busy(store.getState())).toBe(false);
    expect(selectedRun(store.getState())?.status).toBe('finished');
    expect(runById(store.getState(), 'nope')).toBeUndefined();
  });

  it("a link's runs are not the page's own", () => {
    const store = createAppStore();
    store.getState().addShared([runRecord({ id: 'shared-0', status: 'shared' })]);
    store.getState().addRuns([runRecord()], false);
    expect(ownRuns(store.getState()).map((r) => r.status)).toEqual(['queued']);
  });

  it('says why the experiment cannot run: a field first, then the model, then the dataset', () => {
    const store = createAppStore();
    store.getState().setField('lr', '-1');
    expect(cannotRun(store.getState())).toBe(store.getState().errors.lr);
    store.getState().setField('lr', '0.001');
    expect(cannotRun(store.getState())).toBe('load a model first');
    store.getState().modelReady({ ref: defaultExperiment().model, name: 'm', bytes: new ArrayBuffer(1) });
    expect(cannotRun(store.getState())).toBe('load a dataset first');
    store.getState().setData({ status: 'ready' });
    expect(cannotRun(store.getState())).toBeUndefined();
  });
});
