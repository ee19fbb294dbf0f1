/**
 * One line of progress on a terminal, redrawn in place (docs/contract.md#commands: long work shows progress on
 * stderr when it is a terminal, never when it is not). Nothing is drawn for work that ends within
 * about a second: a line that flashes and vanishes tells the operator nothing.
 */
export class TerminalProgress {
  private text = '';
  private drawn = false;
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly stream: NodeJS.WriteStream,
    delayMs: number,
  ) {
    const started = Date.now();
    this.timer = setInterval(() => {
      if (Date.now() - started >= delayMs) this.draw();
    }, 200);
    // Progress must never keep a finished (or failed) command alive.
    this.timer.unref();
  }

  /** A progress line on stderr, or undefined when stderr is not a terminal. */
  static forStderr(delayMs = 1000): TerminalProgress | undefined {
    return process.stderr.isTTY ? new TerminalProgress(process.stderr, delayMs) : undefined;
  }

  update(text: string): void {
    this.text = text;
  }

  /** Stops drawing and clears the line, so results and messages start on a clean line. */
  done(): void {
    clearInterval(this.timer);
    if (this.drawn) this.stream.write('\r\x1b[K');
  }

  private draw(): void {
    if (!this.text) return;
    const width = Math.max(20, (this.stream.columns || 80) - 1);
    this.stream.write(`\r\x1b[K${this.text.slice(0, width)}`);
    this.drawn = true;
  }
}

/** `3.2 MiB` */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export interface ProgressCounts {
  files: number;
  totalFiles: number;
  bytes: number;
  totalBytes: number;
}

/** `Packing domain1: 12/40 files, 3.2 MiB of 10.0 MiB (32%)` */
export function describeProgress(action: string, counts: ProgressCounts): string {
  const percent = counts.totalBytes ? Math.floor((counts.bytes / counts.totalBytes) * 100) : 100;
  return `${action}: ${counts.files}/${counts.totalFiles} files, ${formatBytes(counts.bytes)} of ${formatBytes(counts.totalBytes)} (${percent}%)`;
}
