import type { LogFile } from './log-file.js';

/** A line an application writes without ever ending it is cut here, so memory stays bounded. */
export const MAX_APP_LINE_BYTES = 64 * 1024;

/**
 * An application's output stream written to its log file one line at a time, each line prefixed
 * with the time (ISO 8601, UTC, milliseconds) its first byte arrived: `2026-01-02T03:04:05.678Z text`.
 * A partial line waits for its end; `flush` (the application exited) writes it with its time.
 */
const NEWLINE = Buffer.from('\n');

export class TimestampedLines {
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private partialSince = '';

  constructor(private readonly file: LogFile) {}

  write(chunk: Buffer): void {
    const now = new Date().toISOString();
    const out: Buffer[] = [];
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(0x0a, start);
      const end = newline < 0 ? chunk.length : newline;
      if (this.partialBytes === 0) this.partialSince = now;
      this.partial.push(chunk.subarray(start, end));
      this.partialBytes += end - start;
      if (newline >= 0 || this.partialBytes >= MAX_APP_LINE_BYTES) this.takeLine(out);
      start = newline < 0 ? chunk.length : newline + 1;
    }
    this.file.writeLines(out);
  }

  /** The application is gone: what it wrote without a newline is written now, with its time. */
  flush(): void {
    const out: Buffer[] = [];
    if (this.partialBytes > 0) this.takeLine(out);
    this.file.writeLines(out);
  }

  private takeLine(out: Buffer[]): void {
    out.push(Buffer.concat([Buffer.from(`${this.partialSince} `), ...this.partial, NEWLINE]));
    this.partial = [];
    this.partialBytes = 0;
  }
}
