// A URL being fetched: bytes received (of the total, when the server says it), rate, time left, and
// a Cancel. Test ids `${panel}-progress` and `${panel}-cancel`.
import { formatBytes, type DownloadProgress } from '../../data/download.ts';
import { cancelDownload, type Panel } from '../sources/downloads.ts';

const formatSeconds = (s: number) => (s < 90 ? `${Math.ceil(s)} s` : `${Math.round(s / 60)} min`);

export function DownloadStatus({ panel, name, progress }: { panel: Panel; name: string; progress: DownloadProgress }) {
  const { received, total, bytesPerSecond, secondsLeft } = progress;
  return (
    <div role="status" className="row">
      {total !== undefined && <progress max={total} value={received} />}
      <span data-testid={`${panel}-progress`}>
        {name}: {formatBytes(received)}
        {total !== undefined && ` of ${formatBytes(total)}`}, {formatBytes(bytesPerSecond)}/s
        {secondsLeft !== undefined && `, ${formatSeconds(secondsLeft)} left`}
      </span>
      <button type="button" data-testid={`${panel}-cancel`} onClick={() => cancelDownload(panel)}>Cancel</button>
    </div>
  );
}
