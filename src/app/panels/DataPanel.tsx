// The dataset: a built-in pack, a dropped or picked folder or zip, or a zip URL fetched on request.
// Shows classes, counts, one thumbnail per class, and what was left out and why. Every name that came
// from a drop, a zip or a link is shown with its hidden characters escaped, each in its own <bdi> so
// that right-to-left text in it cannot reorder what is around it.
import { useEffect, useState } from 'react';
import { visibleText } from '../../data/visible-text.ts';
import type { PackInfo } from '../../train/builtins.ts';
import { loadDataUrl, loadDropped, loadPack, loadPicked, packIndex } from '../sources/data-source.ts';
import { useStore } from '../store.ts';
import { DownloadStatus } from './DownloadStatus.tsx';
import { DropZone } from './DropZone.tsx';
import { errorMessage } from '../../gpu/error-message.ts';

const SHOWN_LEFT_OUT = 50;

export function DataPanel() {
  const data = useStore((s) => s.data);
  const notify = useStore((s) => s.notify);
  const [packs, setPacks] = useState<PackInfo[]>([]);
  const [url, setUrl] = useState('');
  useEffect(() => {
    packIndex().then(setPacks, (e: unknown) => notify(errorMessage(e)));
  }, [notify]);

  return (
    <section aria-label="Dataset" data-testid="data-panel" className="panel">
      <h2>Dataset</h2>
      <div className="row">
        {packs.map((p) => (
          <button
            key={p.id}
            type="button"
            title={p.description}
            onClick={() => void loadPack(p.id)}
            aria-pressed={data.ref.kind === 'pack' && data.ref.id === p.id}
          >
            {p.name}
          </button>
        ))}
      </div>
      <DropZone
        label="Drop a folder (one subfolder per class) or a zip, or"
        accept=".zip,image/*"
        folders
        testId="data-drop"
        onFiles={(files) => void loadPicked(files)}
        onDrop={(d) => void loadDropped(d)}
      />
      <form className="row" onSubmit={(e) => (e.preventDefault(), void loadDataUrl(url.trim()))}>
        <input
          type="url"
          placeholder="https://…/dataset.zip"
          value={url}
          onChange={(e) => setUrl(e.target.value)}
          aria-label="Dataset URL"
        />
        <button type="submit" disabled={!url.trim()}>
          Fetch
        </button>
      </form>
      {data.status === 'loading' &&
        (data.download ? (
          <DownloadStatus panel="data" name={visibleText(data.name)} progress={data.download} />
        ) : (
          <p role="status">
            <bdi>{visibleText(data.name)}</bdi>: {data.progress}
          </p>
        ))}
      {data.status === 'error' && (
        <p role="alert" className="error">
          {visibleText(data.message ?? '')}
        </p>
      )}
      {data.status === 'ready' && (
        <div data-testid="data-info">
          <p>
            <strong data-testid="data-name">
              <bdi>{visibleText(data.name)}</bdi>
            </strong>
            : <span data-testid="data-classes">{data.classes.length}</span> classes,{' '}
            <span data-testid="data-train-count">{data.counts.train}</span> training
            {data.counts.val > 0 && <>, {data.counts.val} validation</>}
            {data.counts.test > 0 && <>, {data.counts.test} test</>} images
          </p>
          <ul className="classes">
            {data.classes.map((c, i) => (
              <li key={c}>
                {data.thumbnails[i] && <img src={data.thumbnails[i]} alt="" width={32} height={32} />}
                <bdi>{visibleText(c)}</bdi> <small>{data.perClass[i]}</small>
              </li>
            ))}
          </ul>
          {data.problems.map((p) => (
            <p key={p} className="warning">
              {visibleText(p)}
            </p>
          ))}
          {data.leftOut.length > 0 && (
            <details data-testid="left-out">
              <summary>{data.leftOut.length} files left out</summary>
              <ul>
                {data.leftOut.slice(0, SHOWN_LEFT_OUT).map((l) => (
                  <li key={l.path}>
                    <code>
                      <bdi>{visibleText(l.path)}</bdi>
                    </code>
                    : {visibleText(l.reason)}
                  </li>
                ))}
                {data.leftOut.length > SHOWN_LEFT_OUT && <li>and {data.leftOut.length - SHOWN_LEFT_OUT} more</li>}
              </ul>
            </details>
          )}
        </div>
      )}
    </section>
  );
}
