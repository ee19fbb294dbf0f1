/**
 * At most `count` buffers of `size` bytes, made when first needed, handed out and given back. Large
 * transfers reuse them instead of allocating per megabyte: fresh buffers cost page faults, and
 * garbage ones pile up until V8's external-memory threshold forces a full collection.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];
  private readonly waiting: Array<(buffer: Buffer) => void> = [];
  private made = 0;

  constructor(
    private readonly count: number,
    readonly size: number,
  ) {}

  /** A buffer now, or undefined when all are in use. */
  tryTake(): Buffer | undefined {
    if (this.free.length > 0) return this.free.pop();
    if (this.made === this.count) return undefined;
    this.made += 1;
    return Buffer.allocUnsafeSlow(this.size);
  }

  /** A buffer, once one is given back if all are in use. */
  take(): Promise<Buffer> {
    const buffer = this.tryTake();
    return buffer ? Promise.resolve(buffer) : new Promise((resolve) => this.waiting.push(resolve));
  }

  give(buffer: Buffer): void {
    const next = this.waiting.shift();
    if (next) next(buffer);
    else this.free.push(buffer);
  }
}
