// The page's state (zustand), in slices that each keep their state beside the actions that change it:
// the experiment being edited (setup), the model and dataset it names (sources), the runs with their
// curves (runs), and how the results are shown (view). Components select what they read (selectors in
// store/selectors.ts); side effects follow the store by subscribing (runs/persist.ts, share/link-sync.ts).
import { create } from 'zustand';
import { runsSlice, type RunsSlice } from './store/runs-slice.ts';
import { setupSlice, type SetupSlice } from './store/setup-slice.ts';
import { sourcesSlice, type SourcesSlice } from './store/sources-slice.ts';
import { viewSlice, type ViewSlice } from './store/view-slice.ts';

export type { DataState, LoadedModel, ModelState, ScannedData } from './store/sources-slice.ts';
export type { ChartView, InspectedImage, XAxis } from './store/view-slice.ts';

export type AppState = SetupSlice & SourcesSlice & RunsSlice & ViewSlice;

/** A store of the page's state; the page has one (`useStore`), a test may make its own. */
export const createAppStore = () =>
  create<AppState>()((...a) => ({
    ...setupSlice(...a),
    ...sourcesSlice(...a),
    ...runsSlice(...a),
    ...viewSlice(...a),
  }));

export type AppStore = ReturnType<typeof createAppStore>;

export const useStore = createAppStore();
