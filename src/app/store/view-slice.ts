// How the results are shown: the charts' axes and hidden runs, the gallery's filter, the image of the
// attention panel, and the notices for the person.
import type { StateCreator } from 'zustand';
import { ALL, type GalleryFilter } from '../runs/gallery.ts';
import type { AppState } from '../store.ts';

export type XAxis = 'step' | 'epoch' | 'time';

export interface ChartView {
  x: XAxis;
  logLoss: boolean;
  /** Weight of the exponential moving average, 0 (none) to 0.99. */
  smoothing: number;
  hidden: string[];
}

/** The image of the attention panel: a validation image of a run (its index in the run's
 *  predictions), or one dropped on the panel, at the models' input size (`key` tells drops apart). */
export type InspectedImage =
  { runId: string; index: number } | { key: string; name: string; pixels: Uint8Array; size: number };

export interface ViewSlice {
  view: ChartView;
  /** The predictions gallery's filter and order (for the selected run). */
  gallery: GalleryFilter;
  /** The attention panel's image; undefined: the selected run's first pictured validation image. */
  inspected?: InspectedImage;
  /** Images dropped on the attention panel so far. */
  drops: number;
  notices: string[];
  /** Whether the browser keeps this page's storage under pressure (asked once; undefined until answered). */
  storagePersisted?: boolean;

  setView(v: Partial<ChartView>): void;
  /** Shows or hides a run on the charts. */
  showRun(id: string, shown: boolean): void;
  setGallery(f: GalleryFilter): void;
  inspect(image: { runId: string; index: number }): void;
  inspectDropped(image: { name: string; pixels: Uint8Array; size: number }): void;
  /** Messages for the person, all in one update. */
  notify(...messages: string[]): void;
  dismiss(i: number): void;
  setStoragePersisted(persisted: boolean): void;
}

export const viewSlice: StateCreator<AppState, [], [], ViewSlice> = (set, get) => ({
  view: { x: 'step', logLoss: false, smoothing: 0.6, hidden: [] },
  gallery: ALL,
  drops: 0,
  notices: [],

  setView: (v) => set({ view: { ...get().view, ...v } }),
  showRun(id, shown) {
    const hidden = get().view.hidden.filter((h) => h !== id);
    set({ view: { ...get().view, hidden: shown ? hidden : [...hidden, id] } });
  },
  setGallery: (gallery) => set({ gallery }),
  inspect: (inspected) => set({ inspected }),
  inspectDropped(image) {
    const drops = get().drops + 1;
    set({ drops, inspected: { key: `drop ${drops}`, ...image } });
  },
  notify(...messages) {
    if (messages.length) set({ notices: [...get().notices, ...messages] });
  },
  dismiss: (i) => set({ notices: get().notices.filter((_, k) => k !== i) }),
  setStoragePersisted: (storagePersisted) => set({ storagePersisted }),
});
