// The selected run's validation images as its final weights classify them: true and predicted class
// and confidence, filtered (right, wrong, a class, a confusion-matrix cell) and sorted by confidence.
// An image opens its attention maps.
import { useState } from 'react';
import { visibleText } from '../../data/visible-text.ts';
import { Choice } from '../Choice.tsx';
import { PixelCanvas } from '../PixelCanvas.tsx';
import { useShallow } from 'zustand/react/shallow';
import { useStore } from '../store.ts';
import { selectedRun } from '../store/selectors.ts';
import { galleryItems, type GalleryFilter } from './gallery.ts';

const PAGE = 60;

const OUTCOMES = [
  ['all', 'all'],
  ['right', 'right'],
  ['wrong', 'wrong'],
] as const;
const ORDERS = [
  ['confident', 'most confident first'],
  ['unsure', 'least confident first'],
] as const;

const pct = (v: number) => `${(100 * v).toFixed(1)} %`;

/** A class filter: any, or one class by its index. */
function ClassSelect(o: {
  label: string;
  classes: string[];
  value?: number;
  onChange: (c: number | undefined) => void;
  testId: string;
}) {
  return (
    <label>
      {o.label}{' '}
      <select
        value={o.value ?? ''}
        onChange={(e) => o.onChange(e.target.value === '' ? undefined : Number(e.target.value))}
        data-testid={o.testId}
      >
        <option value="">any</option>
        {o.classes.map((c, i) => (
          <option key={i} value={i}>
            {c}
          </option>
        ))}
      </select>
    </label>
  );
}

export function Gallery() {
  const id = useStore((s) => s.selected);
  // What the gallery shows of the run: the same while a run trains (its curves grow, these do not).
  const { label, predictions, info } = useStore(
    useShallow((s) => {
      const r = selectedRun(s);
      return { label: r?.label, predictions: r?.predictions, info: r?.info };
    }),
  );
  const filter = useStore((s) => s.gallery);
  const setGallery = useStore((s) => s.setGallery);
  const inspect = useStore((s) => s.inspect);
  const [shown, setShown] = useState(PAGE);
  if (!id || !predictions?.length || !info) return null;
  const classes = info.classes.map(visibleText);
  const size = info.config.imageSize;
  const items = galleryItems(predictions, filter);
  const wrong = predictions.filter((p) => p.predicted !== p.label).length;
  const pictured = predictions.filter((p) => p.pixels).length;
  const set = (f: Partial<GalleryFilter>) => {
    setGallery({ ...filter, ...f });
    setShown(PAGE);
  };
  const open = (index: number) => {
    inspect({ runId: id, index });
    document.querySelector('[data-testid=attention]')?.scrollIntoView({ block: 'nearest' });
  };
  return (
    <section aria-label="Predictions" className="panel gallery" data-testid="gallery">
      <h2>Predictions: {label}</h2>
      <p className="hint">
        {predictions.length} validation images, {predictions.length - wrong} right, {wrong} wrong (the final weights)
        {pictured < predictions.length && `; pictures kept for ${pictured}, mistakes first`}. An image opens its
        attention maps.
      </p>
      <div className="row">
        <Choice
          label="show"
          value={filter.outcome}
          options={OUTCOMES}
          onChange={(outcome) => set({ outcome })}
          testId="gallery-outcome"
        />
        <ClassSelect
          label="true class"
          classes={classes}
          value={filter.label}
          onChange={(label) => set({ label })}
          testId="gallery-label"
        />
        <ClassSelect
          label="predicted"
          classes={classes}
          value={filter.predicted}
          onChange={(predicted) => set({ predicted })}
          testId="gallery-predicted"
        />
        <Choice
          label="order"
          value={filter.order}
          options={ORDERS}
          onChange={(order) => set({ order })}
          testId="gallery-order"
        />
        <span role="status">
          <span data-testid="gallery-count">{items.length}</span> shown
        </span>
      </div>
      <ul className="tiles">
        {items.slice(0, shown).map((i) => {
          const p = predictions[i];
          const right = p.predicted === p.label;
          const name = `${visibleText(p.path)}: ${classes[p.label]}, predicted ${classes[p.predicted]} (${pct(p.confidence)})`;
          return (
            <li key={i}>
              <button
                type="button"
                className={`tile ${right ? 'right' : 'wrong'}`}
                onClick={() => open(i)}
                title={name}
                aria-label={name}
                data-testid="gallery-item"
                data-label={p.label}
                data-predicted={p.predicted}
                data-confidence={p.confidence}
              >
                {p.pixels ? (
                  <PixelCanvas pixels={p.pixels} size={size} shown={64} label="" />
                ) : (
                  <span className="no-picture">no picture</span>
                )}
                <span className="caption">
                  <bdi>{classes[p.label]}</bdi> → <bdi>{classes[p.predicted]}</bdi>
                  <br />
                  {pct(p.confidence)}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
      {items.length > shown && (
        <button type="button" onClick={() => setShown(shown + PAGE)} data-testid="gallery-more">
          Show {Math.min(PAGE, items.length - shown)} more of {items.length - shown}
        </button>
      )}
    </section>
  );
}
