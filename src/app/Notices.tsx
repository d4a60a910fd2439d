// Messages for the person (from a link, a failed load, a failed save), each dismissable. They may
// hold names from a link or a file, so hidden characters are shown escaped.
import { visibleText } from '../data/visible-text.ts';
import { useStore } from './store.ts';

export function Notices() {
  const notices = useStore((s) => s.notices);
  const dismiss = useStore((s) => s.dismiss);
  if (notices.length === 0) return null;
  return (
    <ul className="notices" data-testid="notices">
      {notices.map((n, i) => (
        <li key={`${i}:${n}`} role="status">
          {visibleText(n)}{' '}
          <button type="button" aria-label="Dismiss" onClick={() => dismiss(i)}>
            ✕
          </button>
        </li>
      ))}
    </ul>
  );
}
