// Wall-clock timing of work that runs asynchronously on a device. SwiftShader
// runs kernels on the CPU, so one repetition can take anywhere from 0.1 ms to
// seconds: the repetition count adapts so each measurement lasts about TARGET_MS.

const TARGET_MS = 600;
const MAX_REPS = 200;

export interface Timing {
  /** Milliseconds per repetition. */
  ms: number;
  reps: number;
}

/**
 * `run` encodes one repetition; `done` resolves once the device has finished
 * everything encoded. `single` runs one repetition to completion (by default
 * run + done; it may also read GPU timestamps): once to compile pipelines and
 * upload inputs, then once more, timed, to size the repetition count. That
 * second repetition is the measurement when it alone already lasts TARGET_MS.
 */
export async function timeReps(
  run: () => void,
  done: () => Promise<void>,
  single = async () => {
    run();
    await done();
  },
): Promise<Timing> {
  await single();
  let start = performance.now();
  await single();
  const once = performance.now() - start;
  if (once >= TARGET_MS) return { ms: once, reps: 1 };
  const reps = Math.min(MAX_REPS, Math.max(2, Math.round(TARGET_MS / Math.max(once, 1e-3))));
  start = performance.now();
  for (let i = 0; i < reps; i++) run();
  await done();
  return { ms: (performance.now() - start) / reps, reps };
}
