// A URL being fetched: bytes received (of the total, when the server says it), rate, time left, and
// a Cancel. Test ids `${panel}-progress` and `${panel}-cancel`.
import { progressText, type DownloadProgress } from '../../data/download.ts';
import { cancelDownload, type Panel } from '../sources/downloads.ts';

export function DownloadStatus({ panel, name, progress }: { panel: Panel; name: string; progress: DownloadProgress }) {
  return (
    <div role="status" className="row">
      {progress.total !== undefined && <progress max={progress.total} value={progress.received} />}
      <span data-testid={`${panel}-progress`}>
        {name}: {progressText(progress)}
      </span>
      <button type="button" data-testid={`${panel}-cancel`} onClick={() => cancelDownload(panel)}>
        Cancel
      </button>
    </div>
  );
}
