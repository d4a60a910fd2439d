// @vitest-environment jsdom
// The panels whose logic moved into the store and the trainer, rendered in jsdom on the page's store
// with a Trainer whose worker the test plays (tests/helpers/run-records.ts): Train and the run controls follow the
// store's active run; Compare's seeds field queues that many seeds, which the runs table sums up per method;
// the runs table offers Resume only while no run is in progress and deletes a run;
// a confusion-matrix cell filters the gallery; the attention panel asks the worker once per image and
// models, not while runs are in progress, and shows the worker's error.
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { createElement, type ReactNode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AttentionPanel } from '../../src/app/attention/AttentionPanel.tsx';
import { RunPanel } from '../../src/app/panels/RunPanel.tsx';
import { ConfusionMatrix } from '../../src/app/runs/ConfusionMatrix.tsx';
import { Gallery } from '../../src/app/runs/Gallery.tsx';
import { RunsPanel } from '../../src/app/runs/RunsPanel.tsx';
import { Trainer } from '../../src/app/runs/trainer.ts';
import { TrainerContext } from '../../src/app/runs/trainer-context.ts';
import { useStore } from '../../src/app/store.ts';
import {
  evalPoint,
  FakeWorker,
  loadSources,
  predictionsOf,
  runInfo,
  runRecord,
  trainPoint,
} from '../helpers/run-records.ts';

let worker: FakeWorker;
let trainer: Trainer;

// jsdom lays nothing out: the gallery's and the matrix's scrolling does nothing here.
Element.prototype.scrollIntoView = () => undefined;

beforeEach(() => {
  useStore.setState(useStore.getInitialState(), true);
  worker = new FakeWorker();
  trainer = new Trainer(useStore, () => worker);
});
afterEach(cleanup);

const show = (panel: () => ReactNode) =>
  render(createElement(TrainerContext, { value: trainer }, createElement(panel)));

describe('RunPanel', () => {
  it('says what is missing, then trains, with Pause and Stop while the run is in progress', async () => {
    show(RunPanel);
    expect(screen.getByTestId<HTMLButtonElement>('train').disabled).toBe(true);
    screen.getByText('load a model first');
    act(() => loadSources(useStore));
    expect(screen.getByTestId<HTMLButtonElement>('train').disabled).toBe(false);
    expect(screen.queryByTestId('stop')).toBeNull();
    fireEvent.click(screen.getByTestId('train'));
    await screen.findByTestId('pause');
    expect(worker.starts()).toHaveLength(1);
    act(() => worker.answer({ type: 'paused', runId: useStore.getState().runs[0].id, step: 1 }));
    fireEvent.click(screen.getByTestId('resume'));
    fireEvent.click(screen.getByTestId('stop'));
    expect(worker.sent.map((m) => m.type)).toEqual(['start', 'resume', 'stop']);
  });

  it("Compare's seeds beside it: two seeds queue two pairs, which the runs table sums up per method", () => {
    show(() => createElement('div', null, createElement(RunPanel), createElement(RunsPanel)));
    act(() => loadSources(useStore));
    fireEvent.change(screen.getByLabelText('seeds'), { target: { value: '2' } });
    fireEvent.click(screen.getByTestId('compare'));
    const runs = useStore.getState().runs;
    expect(runs.map((r) => r.label)).toEqual([
      'StochCA p=0.1 · seed 0',
      'fine-tuning · seed 0',
      'StochCA p=0.1 · seed 1',
      'fine-tuning · seed 1',
    ]);
    const arms = () => screen.getAllByTestId('comparison-arm').map((row) => row.textContent);
    expect(arms()).toEqual([
      expect.stringMatching(/^ StochCA p=0.1 · seeds 0–10 of 2 seeds–/),
      expect.stringMatching(/^ fine-tuning · seeds 0–10 of 2 seeds–/),
    ]);
    // Best validation 90 and 80 % (StochCA), 85 and 81 % (fine-tuning): differences 5 and −1.
    const best = [0.9, 0.85, 0.8, 0.81];
    act(() =>
      runs.forEach((r, i) => useStore.getState().patchRun(r.id, { status: 'finished', val: [evalPoint(5, best[i])] })),
    );
    expect(screen.getAllByTestId('arm-best').map((c) => c.textContent)).toEqual(['85.0 ± 7.1 %', '83.0 ± 2.8 %']);
    expect(screen.getAllByTestId('arm-seeds').map((c) => c.textContent)).toEqual(['2 seeds', '2 seeds']);
    // Mean 2, std √18 = 4.243, half-width 12.706 · 4.243 / √2 = 38.12.
    expect(screen.getByTestId('comparison-difference').textContent).toBe(
      'StochCA − fine-tuning, paired by seed (95 % interval): best validation +2.0 points [−36.1, +40.1], 2 seeds, 1 above 0: no difference shown (the interval holds 0)',
    );
  });
});

describe('RunsPanel', () => {
  it('offers Resume while no run is in progress, and deletes a run with its checkpoint', async () => {
    // The origin-private file system of the checkpoints, as far as a deletion goes.
    const removed: string[] = [];
    const runsFolder = { removeEntry: async (name: string) => void removed.push(name) };
    const root = { getDirectoryHandle: async () => runsFolder };
    Object.defineProperty(navigator, 'storage', { value: { getDirectory: async () => root }, configurable: true });
    const stopped = runRecord({ status: 'stopped', checkpointStep: 2, train: [trainPoint(1), trainPoint(2)] });
    const running = runRecord({ status: 'running' }, [stopped]);
    act(() => useStore.getState().restoreRuns([stopped, running]));
    show(RunsPanel);
    expect(screen.getAllByTestId('run-status').map((e) => e.textContent)).toEqual(['stopped', 'running']);
    expect(screen.queryByTestId('resume-checkpoint')).toBeNull();
    // The running run has no Delete; its curves grow in its own row.
    expect(screen.getAllByRole('button', { name: /^Delete/ })).toHaveLength(1);
    act(() => useStore.getState().appendPoints(running.id, [trainPoint(1), trainPoint(2), trainPoint(3)], []));
    expect(screen.getAllByTestId('run-row')[1].textContent).toContain(`${trainPoint(3).seconds.toFixed(0)} s`);
    act(() => useStore.getState().patchRun(running.id, { status: 'finished' }));
    screen.getByText('Resume from step 2');
    fireEvent.click(screen.getAllByTestId('run-row')[1]);
    expect(useStore.getState().selected).toBe(running.id);
    fireEvent.click(screen.getAllByRole('button', { name: `Delete ${stopped.label}` })[0]);
    expect(useStore.getState().runs.map((r) => r.id)).toEqual([running.id]);
    await vi.waitFor(() => expect(removed).toEqual([stopped.id]));
  });
});

describe('ConfusionMatrix and Gallery', () => {
  it("a cell shows as many of the selected run's images as it counts", () => {
    const m = [
      [2, 1],
      [0, 3],
    ];
    const run = runRecord({ status: 'finished', info: runInfo(), confusion: m, predictions: predictionsOf(m) });
    act(() => useStore.getState().addRuns([run], false));
    show(() => [createElement(ConfusionMatrix, { key: 'c' }), createElement(Gallery, { key: 'g' })]);
    expect(screen.getByTestId('gallery-count').textContent).toBe('6');
    const shown = () => screen.getAllByTestId('gallery-item').map((e) => `${e.dataset.label} ${e.dataset.predicted}`);
    fireEvent.click(within(screen.getByTestId('cell-0-1')).getByRole('button'));
    expect(screen.getByTestId('gallery-count').textContent).toBe('1');
    expect(shown()).toEqual(['0 1']);
    fireEvent.click(within(screen.getByTestId('cell-1-1')).getByRole('button'));
    expect(shown()).toEqual(['1 1', '1 1', '1 1']);
  });
});

describe('AttentionPanel', () => {
  it('asks the worker once per image and models, not while a run waits, and shows its error', async () => {
    const m = [
      [1, 0],
      [0, 1],
    ];
    const pixels = new Uint8Array(28 * 28 * 4);
    const predictions = predictionsOf(m).map((p) => ({ ...p, pixels }));
    const done = runRecord({ status: 'finished', info: runInfo(), checkpointStep: 4, confusion: m, predictions });
    const queued = runRecord({}, [done]);
    act(() => useStore.getState().restoreRuns([done, queued]));
    const asked = () => worker.sent.filter((s) => s.type === 'attention');
    show(AttentionPanel);
    screen.getByText('The maps are computed once the runs in progress have ended.');
    expect(screen.getByTestId('attention-image').textContent).toBe(`${predictions[0].path} (a)`);
    expect(asked()).toEqual([]);

    act(() => useStore.getState().patchRun(queued.id, { status: 'failed' }));
    screen.getByText('Computing the maps…');
    expect(asked()).toEqual([{ type: 'attention', requestId: 0, pixels, models: [{ kind: 'run', runId: done.id }] }]);
    // Changes that leave the image and the models as they are ask nothing more.
    act(() => useStore.getState().notify('unrelated'));
    act(() => useStore.getState().appendPoints(queued.id, [trainPoint(1)], [evalPoint(1, 0.5)]));
    expect(asked()).toHaveLength(1);
    act(() => worker.answer({ type: 'attention', requestId: 0, error: 'the adapter went away' }));
    await screen.findByText('the adapter went away');
    expect(screen.queryByText('Computing the maps…')).toBeNull();
    expect(asked()).toHaveLength(1);

    // Another image of the run is asked for; the one answered before is not asked again.
    act(() => useStore.getState().inspect({ runId: done.id, index: 1 }));
    expect(screen.getByTestId('attention-image').textContent).toBe(`${predictions[1].path} (b)`);
    expect(asked().map((a) => a.type === 'attention' && a.requestId)).toEqual([0, 1]);
    act(() => useStore.getState().inspect({ runId: done.id, index: 0 }));
    expect(asked()).toHaveLength(2);
  });
});
