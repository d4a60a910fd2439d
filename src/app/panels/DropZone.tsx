// A drop target with a file (and optionally a folder) picker beside it.
import { useState, type DragEvent, type KeyboardEvent } from 'react';

/** Enter or Space on a picker's label opens its (hidden) file input, as a click does. */
const pickWithKeys = (e: KeyboardEvent<HTMLLabelElement>) => {
  if (e.key !== 'Enter' && e.key !== ' ') return;
  e.preventDefault();
  e.currentTarget.querySelector('input')?.click();
};

interface Props {
  label: string;
  accept?: string;
  /** Offer a folder picker too. */
  folders?: boolean;
  testId: string;
  /** Loose files (a picker, or a drop without folders). */
  onFiles(files: File[]): void;
  /** The raw drop, when the caller walks folders itself; called inside the event. */
  onDrop?(data: DataTransfer): void;
}

export function DropZone({ label, accept, folders, testId, onFiles, onDrop }: Props) {
  const [over, setOver] = useState(false);
  const drop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    if (onDrop) onDrop(e.dataTransfer);
    else onFiles(Array.from(e.dataTransfer.files));
  };
  return (
    <div
      className={`drop${over ? ' over' : ''}`}
      data-testid={testId}
      onDragOver={(e) => (e.preventDefault(), setOver(true))}
      onDragLeave={() => setOver(false)}
      onDrop={drop}
    >
      <span>{label}</span>{' '}
      <label className="button" tabIndex={0} onKeyDown={pickWithKeys}>
        choose a file
        <input
          type="file"
          hidden
          accept={accept}
          multiple
          data-testid={`${testId}-file`}
          onChange={(e) => e.target.files && onFiles(Array.from(e.target.files))}
        />
      </label>
      {folders && (
        <label className="button" tabIndex={0} onKeyDown={pickWithKeys}>
          choose a folder
          <input
            type="file"
            hidden
            data-testid={`${testId}-folder`}
            ref={(el) => el?.setAttribute('webkitdirectory', '')}
            onChange={(e) => e.target.files && onFiles(Array.from(e.target.files))}
          />
        </label>
      )}
    </div>
  );
}
