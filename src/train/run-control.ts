// Pausing and stopping a run from outside its loop: a pause waits between steps, a stop ends the
// run after the step in progress (with a checkpoint, so it can be resumed).

export class RunControl {
  paused = false;
  stopped = false;
  private wake = () => {};

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake();
  }

  stop(): void {
    this.stopped = true;
    this.wake();
  }

  /** Resolves when not paused (or stopped). */
  async whilePaused(onPause: () => void): Promise<void> {
    if (!this.paused || this.stopped) return;
    onPause();
    while (this.paused && !this.stopped) await new Promise<void>((r) => (this.wake = r));
  }
}
