// GPU timestamps around compute passes (adapters with `timestamp-query`).
// Each timed pass holds one dispatch; durations are summed per op name.

const CAPACITY = 2048; // queries per set: two per pass

export class Timer {
  private readonly querySet: GPUQuerySet;
  private readonly resolveBuffer: GPUBuffer;
  private used = 0;
  private names: string[] = [];
  private readonly readbacks: { buffer: GPUBuffer; names: string[] }[] = [];

  constructor(private readonly device: GPUDevice) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: CAPACITY });
    this.resolveBuffer = device.createBuffer({
      size: CAPACITY * 8,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
  }

  get full(): boolean {
    return this.used + 2 > CAPACITY;
  }

  /** Timestamp writes for the next pass, attributed to `name`. */
  next(name: string): GPUComputePassTimestampWrites {
    const i = this.used;
    this.used += 2;
    this.names.push(name);
    return { querySet: this.querySet, beginningOfPassWriteIndex: i, endOfPassWriteIndex: i + 1 };
  }

  /** Records the copy of this submit's timestamps; call before finishing the encoder. */
  resolve(encoder: GPUCommandEncoder): void {
    if (this.used === 0) return;
    const bytes = this.used * 8;
    const buffer = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.resolveQuerySet(this.querySet, 0, this.used, this.resolveBuffer, 0);
    encoder.copyBufferToBuffer(this.resolveBuffer, 0, buffer, 0, bytes);
    this.readbacks.push({ buffer, names: this.names });
    this.used = 0;
    this.names = [];
  }

  /** Nanoseconds per op name over everything resolved so far. */
  async results(): Promise<Map<string, number>> {
    const totals = new Map<string, number>();
    for (const { buffer, names } of this.readbacks.splice(0)) {
      await buffer.mapAsync(GPUMapMode.READ);
      const t = new BigUint64Array(buffer.getMappedRange());
      names.forEach((name, i) => {
        const ns = Number(t[2 * i + 1] - t[2 * i]);
        totals.set(name, (totals.get(name) ?? 0) + Math.max(0, ns));
      });
      buffer.unmap();
      buffer.destroy();
    }
    return totals;
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolveBuffer.destroy();
    for (const r of this.readbacks) r.buffer.destroy();
  }
}
