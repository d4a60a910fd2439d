// Where the models look: for one image (a validation image from the gallery, or one dropped here),
// the class token's attention in the chosen block, per head, averaged over heads, and rolled out
// over the blocks up to it (attention-views.ts), for the pretrained model (the teacher) and for the
// last finished runs' models side by side. Computed by the training worker once no run is training.
import { useEffect, useMemo, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { visibleText } from '../../data/visible-text.ts';
import { scoreRow } from '../../train/scoring.ts';
import type { AttentionMaps, AttentionModel } from '../../worker/protocol.ts';
import { DropZone } from '../panels/DropZone.tsx';
import { PixelCanvas } from '../PixelCanvas.tsx';
import { PALETTE, type RunRecord } from '../runs/run-record.ts';
import { useTrainer } from '../runs/trainer-context.ts';
import { useStore, type AppState, type InspectedImage } from '../store.ts';
import { busy, runById } from '../store/selectors.ts';
import { headMean, headRow, rollout } from './attention-views.ts';
import { HeatMap } from './HeatMap.tsx';
import { modelInput } from './image-input.ts';
import { errorMessage } from '../../gpu/error-message.ts';

/** Finished runs shown beside the pretrained model, the latest first. */
const MAX_RUNS = 4;

interface Image {
  key: string;
  pixels: Uint8Array;
  size: number;
  caption: string;
}

interface Row {
  key: string;
  title: string;
  colour?: string;
  /** The run's classes, whose head the prediction is of; none for the pretrained model (its head is not the task's). */
  classes?: string[];
  model: AttentionModel;
}

/** What the panel reads of the run it is anchored to: the same while that run's curves grow. */
type Anchor = Pick<RunRecord, 'id' | 'model' | 'modelSha256' | 'settings' | 'info' | 'predictions'>;

const anchorOf = (r: RunRecord | undefined): Anchor | undefined =>
  r && {
    id: r.id,
    model: r.model,
    modelSha256: r.modelSha256,
    settings: r.settings,
    info: r.info,
    predictions: r.predictions,
  };

/** The selected run, or the latest, of the ones whose model is known (not a link's). */
function anchorRun(s: AppState): RunRecord | undefined {
  const withInfo = s.runs.filter((r) => r.info && r.status !== 'shared');
  return withInfo.find((r) => r.id === s.selected) ?? withInfo.at(-1);
}

/** Runs whose model has a checkpoint to look into. */
const finishedRuns = (s: AppState) =>
  s.runs.filter((r) => r.info && r.checkpointStep !== undefined && (r.status === 'finished' || r.status === 'stopped'));

/** The inspected image: one dropped, a validation image of `shown` (the inspected run), or the anchor
 *  run's first pictured validation image. */
function imageOf(inspected: InspectedImage | undefined, shown: Anchor | undefined, anchor: Anchor): Image | undefined {
  if (inspected && 'pixels' in inspected)
    return { key: inspected.key, pixels: inspected.pixels, size: inspected.size, caption: inspected.name };
  const run = inspected ? shown : anchor;
  const index = inspected?.index ?? anchor.predictions?.findIndex((p) => p.pixels) ?? -1;
  const p = run?.predictions?.[index];
  if (!run?.info || !p?.pixels) return undefined;
  return {
    key: `${run.id} ${index}`,
    pixels: p.pixels,
    size: run.info.config.imageSize,
    caption: `${p.path} (${run.info.classes[p.label]})`,
  };
}

/** The models to look through: the anchor's starting model (`start`, when it is loaded), then the
 *  latest finished runs of the image's size. */
function rowsFor(finished: RunRecord[], anchor: Anchor, start: ArrayBuffer | undefined, size: number): Row[] {
  const rows: Row[] = [];
  if (start && anchor.info?.config.imageSize === size) {
    rows.push({
      key: `pretrained ${anchor.modelSha256 ?? anchor.id}`,
      title: 'pretrained (the teacher)',
      model: { kind: 'pretrained', model: start, classNames: anchor.info.classes, settings: anchor.settings },
    });
  }
  for (const r of finished
    .filter((r) => r.info?.config.imageSize === size)
    .slice(-MAX_RUNS)
    .reverse()) {
    rows.push({
      key: `${r.id} ${r.checkpointStep}`,
      title: r.label,
      colour: PALETTE[r.colour % PALETTE.length],
      classes: r.info!.classes,
      model: { kind: 'run', runId: r.id },
    });
  }
  return rows;
}

function PredictedClass({ row, maps }: { row: Row; maps: AttentionMaps }) {
  if (!row.classes) return <small>its own head</small>;
  const { predicted, confidence } = scoreRow(maps.logits, 0, maps.logits.length, 0);
  return (
    <small data-testid="attention-prediction">
      predicts <bdi>{visibleText(row.classes[predicted])}</bdi> ({(100 * confidence).toFixed(1)} %)
    </small>
  );
}

export function AttentionPanel() {
  const trainer = useTrainer();
  const anchor = useStore(useShallow((s) => anchorOf(anchorRun(s))));
  const inspected = useStore((s) => s.inspected);
  const shown = useStore(
    useShallow((s) => anchorOf(s.inspected && 'runId' in s.inspected ? runById(s, s.inspected.runId) : undefined)),
  );
  const finished = useStore(useShallow(finishedRuns));
  const loaded = useStore(
    useShallow((s) => ({ status: s.model.status, ref: s.model.ref, sha256: s.model.sha256, bytes: s.model.bytes })),
  );
  const isBusy = useStore(busy);
  const inspectDropped = useStore((s) => s.inspectDropped);
  const [block, setBlock] = useState(0);
  const [result, setResult] = useState<{ key: string; maps?: AttentionMaps[]; error?: string }>();
  const [dropError, setDropError] = useState<string>();

  const image = useMemo(() => anchor && imageOf(inspected, shown, anchor), [inspected, shown, anchor]);
  const start = useMemo(() => anchor && trainer.startingModel(anchor, loaded), [trainer, anchor, loaded]);
  const rows = useMemo(
    () => (anchor && image ? rowsFor(finished, anchor, start, image.size) : []),
    [finished, anchor, start, image],
  );
  const key = image ? `${image.key} | ${rows.map((r) => r.key).join(', ')}` : '';
  const answered = result?.key === key;

  // The maps of this image in these models, asked once no run is in progress (and again only for
  // another image or other models).
  useEffect(() => {
    if (!image || isBusy || rows.length === 0 || answered) return;
    let current = true;
    trainer
      .requestAttention(
        image.pixels,
        rows.map((r) => r.model),
      )
      .then(
        (maps) => current && setResult({ key, maps }),
        (e: unknown) => current && setResult({ key, error: errorMessage(e) }),
      );
    return () => {
      current = false;
    };
  }, [trainer, image, rows, isBusy, key, answered]);

  const maps = result?.key === key ? result.maps : undefined;
  const depth = maps ? Math.max(...maps.map((m) => m.depth)) : (anchor?.info?.config.depth ?? 1);
  const b = Math.min(block, depth - 1);
  // Per model, the block's rows (its last block for a shallower model): head mean, rollout, each head.
  const views = useMemo(
    () =>
      maps?.map((m) => {
        const l = Math.min(b, m.depth - 1);
        return {
          mean: headMean(m, l),
          rolled: rollout(m)[l],
          heads: Array.from({ length: m.heads }, (_, h) => headRow(m, l, h)),
        };
      }),
    [maps, b],
  );

  if (!anchor?.info) return null;
  const size = image?.size ?? anchor.info.config.imageSize;
  const drop = (files: File[]) => {
    const file = files.find((f) => f.type.startsWith('image/')) ?? files[0];
    if (!file) return;
    setDropError(undefined);
    modelInput(file, size).then(
      (pixels) => inspectDropped({ name: file.name, pixels, size }),
      (e: unknown) => setDropError(errorMessage(e)),
    );
  };
  const heads = maps ? Math.max(...maps.map((m) => m.heads)) : anchor.info.config.heads;

  return (
    <section aria-label="Attention maps" className="panel attention" data-testid="attention">
      <h2>Attention maps</h2>
      <p className="hint">
        Where the class token looks in block {b + 1}: each head, their mean, and the rollout through blocks 1–{b + 1}{' '}
        (along the class token's path, see docs/page.md); brighter is more, each map scaled to its largest patch.
        {maps?.some((m) => m.registers > 0) &&
          " A model with register tokens gives them part of the class token's attention, on no patch: their share is under its maps."}
      </p>
      <div className="row">
        <label>
          block{' '}
          <input
            type="range"
            min={1}
            max={depth}
            value={b + 1}
            onChange={(e) => setBlock(Number(e.target.value) - 1)}
            data-testid="attention-block"
          />{' '}
          {b + 1} of {depth}
        </label>
        {image && (
          <span>
            image: <bdi data-testid="attention-image">{visibleText(image.caption)}</bdi>
          </span>
        )}
        <DropZone label="Drop an image, or" accept="image/*" testId="attention-drop" onFiles={drop} />
      </div>
      {dropError && (
        <p role="alert" className="error">
          {visibleText(dropError)}
        </p>
      )}
      {!image && <p className="hint">Finish a run to see its validation images here, or drop an image.</p>}
      {image && isBusy && <p role="status">The maps are computed once the runs in progress have ended.</p>}
      {image && !isBusy && !answered && rows.length > 0 && <p role="status">Computing the maps…</p>}
      {answered && result.error && (
        <p role="alert" className="error">
          {visibleText(result.error)}
        </p>
      )}
      {image && rows.length === 0 && (
        <p className="hint">Load the model the runs started from, or finish a run, to see maps.</p>
      )}
      {image && maps && views && (
        <table className="maps" data-testid="attention-maps">
          <thead>
            <tr>
              <th>model</th>
              <th>image</th>
              <th>mean of heads</th>
              <th>rollout</th>
              {Array.from({ length: heads }, (_, h) => (
                <th key={h}>head {h + 1}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row, i) => (
              <tr key={row.key} data-testid="attention-row">
                <th scope="row">
                  <span style={{ color: row.colour }}>{row.title}</span>
                  <br />
                  <PredictedClass row={row} maps={maps[i]} />
                </th>
                <td>
                  <PixelCanvas pixels={image.pixels} size={image.size} label="the image" />
                </td>
                <td>
                  <HeatMap
                    image={image.pixels}
                    size={image.size}
                    row={views[i].mean}
                    registers={maps[i].registers}
                    label={`${row.title}, block ${b + 1}, mean of heads`}
                  />
                </td>
                <td>
                  <HeatMap
                    image={image.pixels}
                    size={image.size}
                    row={views[i].rolled}
                    registers={maps[i].registers}
                    label={`${row.title}, rollout to block ${b + 1}`}
                  />
                </td>
                {views[i].heads.map((r, h) => (
                  <td key={h}>
                    <HeatMap
                      image={image.pixels}
                      size={image.size}
                      row={r}
                      registers={maps[i].registers}
                      label={`${row.title}, block ${b + 1}, head ${h + 1}`}
                    />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
