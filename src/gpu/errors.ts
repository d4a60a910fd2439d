// Errors the runtime raises. Each message names the op (and its shapes) that caused it.

/** A validation, out-of-memory or internal error reported by the WebGPU device. */
export class GpuError extends Error {
  constructor(
    readonly kind: 'validation' | 'out-of-memory' | 'internal',
    message: string,
  ) {
    super(message);
    this.name = kind === 'out-of-memory' ? 'GpuOutOfMemoryError' : 'GpuError';
  }
}

/** The device was lost (driver reset, tab in background too long, destroy()). */
export class DeviceLostError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(`The GPU device was lost (${reason}): ${message}`);
    this.name = 'DeviceLostError';
  }
}

/** No usable WebGPU adapter; the message says what to install or enable. */
export class NoWebGPUError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoWebGPUError';
  }
}
