// The model zoo in the model panel: each Hub checkpoint with its size, parameters, input, normalisation,
// classes and licence, and a button that loads it (from this browser's cache, or fetched from the Hub
// address when it is not there); what the cache holds, with a Remove for each; the Hub address.
import { useEffect, useState } from 'react';
import { DEFAULT_HUB, ZOO, type ZooEntry } from '../../checkpoint/zoo.ts';
import { formatBytes } from '../../data/download.ts';
import { hubAddress, setHubAddress } from '../sources/hub-address.ts';
import { loadZooModel } from '../sources/model-source.ts';
import { listCachedZoo, removeCachedZoo, type CachedZooModel } from '../sources/zoo-cache.ts';
import { useShallow } from 'zustand/react/shallow';
import { useStore } from '../store.ts';

const normalizationText = ({ mean, std }: ZooEntry['normalization']) =>
  mean.every((m) => m === 0.5) && std.every((s) => s === 0.5) ? 'mean 0.5, std 0.5' : 'ImageNet mean and std';

const classesText = (e: ZooEntry) =>
  e.classes === 0 ? 'none (a new head)' : `${e.classes.toLocaleString('en')}${e.classNames ? ', named' : ''}`;

export function ZooList() {
  const model = useStore(useShallow((s) => ({ status: s.model.status, ref: s.model.ref })));
  const [cached, setCached] = useState<CachedZooModel[]>([]);
  const [hub, setHub] = useState(hubAddress);
  const [hubError, setHubError] = useState<string>();
  const refresh = () => void listCachedZoo().then(setCached, () => setCached([]));
  // A zoo model that has just loaded may have been kept in the cache.
  useEffect(refresh, [model.status, model.ref]);
  const isCached = (repo: string) => cached.some((c) => c.repo === repo);

  return (
    <details className="zoo" data-testid="zoo-panel" open>
      <summary>Model zoo: ViT and DeiT checkpoints from the Hugging Face Hub</summary>
      <table>
        <thead>
          <tr>
            <th>model</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {ZOO.map((e) => (
            <tr key={e.repo}>
              <td title={`${e.repo}/${e.file}`}>
                {e.name}
                <small>{e.repo}</small>
                <small>
                  {[
                    formatBytes(e.bytes),
                    `${(e.parameters / 1e6).toFixed(1)} M parameters`,
                    `${e.imageSize} px input`,
                    normalizationText(e.normalization),
                    `classes: ${classesText(e)}`,
                    e.licence,
                  ].join(' · ')}
                </small>
              </td>
              <td>
                <button
                  type="button"
                  data-testid={`zoo-load-${e.repo}`}
                  onClick={() => void loadZooModel(e.repo)}
                  aria-label={`${isCached(e.repo) ? 'Load' : 'Fetch'} ${e.repo}`}
                  aria-pressed={model.ref.kind === 'hub' && model.ref.repo === e.repo}
                >
                  {isCached(e.repo) ? 'Load' : 'Fetch'}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div data-testid="zoo-cache">
        {cached.length === 0 ? (
          <small>No zoo model is kept in this browser yet.</small>
        ) : (
          <ul>
            {cached.map((c) => (
              <li key={c.repo} className="row" data-testid={`zoo-cached-${c.repo}`}>
                <span>
                  {c.repo}: {c.files.map((f) => `${f.name} ${formatBytes(f.bytes)}`).join(', ')}
                </span>
                <button
                  type="button"
                  data-testid={`zoo-remove-${c.repo}`}
                  onClick={() => void removeCachedZoo(c.repo).then(refresh)}
                >
                  Remove
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
      <div className="field">
        <label htmlFor="hub-address">Hub address</label>
        <input
          id="hub-address"
          type="url"
          placeholder={DEFAULT_HUB}
          value={hub}
          aria-invalid={hubError !== undefined}
          data-testid="hub-address"
          onChange={(ev) => {
            setHub(ev.target.value);
            setHubError(setHubAddress(ev.target.value));
          }}
        />
        {hubError ? (
          <span className="error" role="alert">
            {hubError}
          </span>
        ) : (
          <small>a mirror with the Hub's layout (such as https://hf-mirror.com) works too</small>
        )}
      </div>
    </details>
  );
}
