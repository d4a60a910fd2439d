// A load of the model or the dataset, guarded against the next one: each load takes its panel's
// download signal (downloads.ts), says it is loading, and says how it ended only while no later load
// of that panel has replaced it.
import { beginLoad, replaced, type Panel } from './downloads.ts';
import { errorMessage } from '../../gpu/error-message.ts';

/** Where a load shows: the store's actions of its panel. */
export interface LoadTarget<T> {
  loading(): void;
  ready(loaded: T): void;
  failed(message: string): void;
}

/** Runs `load`; a failure is said as `name: why`. */
export async function guarded<T>(
  panel: Panel,
  name: string,
  target: LoadTarget<T>,
  load: (signal: AbortSignal) => Promise<T>,
): Promise<void> {
  const signal = beginLoad(panel);
  target.loading();
  try {
    const loaded = await load(signal);
    if (!replaced(panel, signal)) target.ready(loaded);
  } catch (e) {
    if (!replaced(panel, signal)) target.failed(`${name}: ${errorMessage(e)}`);
  }
}
