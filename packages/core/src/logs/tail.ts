import { open, stat, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppStream } from '../layout.js';
import { MAX_LOG_LINE_CHARS, type LogLine } from '../protocol/logs.js';

/** A follower looks for new lines this often: a person watching sees them at once. */
const FOLLOW_POLL_MS = 200;
/** The last lines are looked for in at most this much of a file's end, however many were asked for. */
const MAX_TAIL_BYTES = 8 * 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;

export interface TailedFile {
  path: string;
  /** Which of an application's streams the file holds; each of its lines says so. */
  stream?: AppStream;
}

export interface TailOptions {
  lines: number;
  /** Then every new line, until `signal` aborts. */
  follow: boolean;
  signal: AbortSignal;
}

function cut(line: string): string {
  return line.length > MAX_LOG_LINE_CHARS ? line.slice(0, MAX_LOG_LINE_CHARS) : line;
}

/**
 * One log file, read from its end and followed across rotations: when the path names another file
 * (logrotate moved it, or the server rotated it), the old one is read to its end, then the new one
 * from its start, so no line is lost in between.
 */
class FollowedFile {
  private handle?: FileHandle;
  private ino = -1;
  private position = 0;
  private carry = '';

  constructor(private readonly file: TailedFile) {}

  /** The last `count` lines now there (none if the file does not exist yet). */
  async last(count: number): Promise<LogLine[]> {
    if (!(await this.openCurrent())) return [];
    const { size } = await this.handle!.stat();
    this.position = size;
    if (count === 0 || size === 0) return [];
    const chunks: Buffer[] = [];
    let start = size;
    let newlines = 0;
    while (start > 0 && newlines <= count && size - start < MAX_TAIL_BYTES) {
      const length = Math.min(CHUNK_BYTES, start);
      start -= length;
      const chunk = Buffer.alloc(length);
      await this.handle!.read(chunk, 0, length, start);
      for (const byte of chunk) if (byte === 0x0a) newlines += 1;
      chunks.unshift(chunk);
    }
    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    if (start > 0) lines.shift(); // begun mid-line
    return lines.slice(-count).map((line) => this.tagged(line));
  }

  /** The lines written since the last look. */
  async poll(): Promise<LogLine[]> {
    const lines: LogLine[] = [];
    if (this.handle) lines.push(...(await this.readOn()));
    const now = await stat(this.file.path).catch(() => undefined);
    if (now && now.ino !== this.ino) {
      // Rotated: the rest of the old file is read above; from now on the new one, from its start.
      await this.handle?.close();
      this.handle = undefined;
      this.carry = '';
      if (await this.openCurrent()) lines.push(...(await this.readOn()));
    }
    return lines;
  }

  private async openCurrent(): Promise<boolean> {
    try {
      this.handle = await open(this.file.path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
    this.ino = (await this.handle.stat()).ino;
    this.position = 0;
    return true;
  }

  private async readOn(): Promise<LogLine[]> {
    const { size } = await this.handle!.stat();
    if (size < this.position) this.position = 0; // truncated (copytruncate): from its start
    const lines: LogLine[] = [];
    while (this.position < size) {
      const length = Math.min(CHUNK_BYTES, size - this.position);
      const chunk = Buffer.alloc(length);
      const { bytesRead } = await this.handle!.read(chunk, 0, length, this.position);
      if (bytesRead === 0) break;
      this.position += bytesRead;
      const parts = (this.carry + chunk.subarray(0, bytesRead).toString('utf8')).split('\n');
      this.carry = parts.pop()!;
      if (this.carry.length > MAX_LOG_LINE_CHARS) {
        parts.push(this.carry);
        this.carry = '';
      }
      lines.push(...parts.map((line) => this.tagged(line)));
    }
    return lines;
  }

  private tagged(line: string): LogLine {
    return this.file.stream ? { line: cut(line), stream: this.file.stream } : { line: cut(line) };
  }

  async close(): Promise<void> {
    await this.handle?.close();
  }
}

/**
 * The last `lines` lines of one log file, or of several merged in the order of their timestamps
 * (an application's stdout and stderr), then, with `follow`, every new line until `signal` aborts.
 */
export async function* tailLogFiles(files: TailedFile[], options: TailOptions): AsyncGenerator<LogLine> {
  const followed = files.map((file) => new FollowedFile(file));
  try {
    const last = (await Promise.all(followed.map((file) => file.last(options.lines)))).flat();
    // Lines start with their ISO 8601 time: ordered as text, they are ordered in time (stable for equal times).
    if (files.length > 1) last.sort((a, b) => (a.line.slice(0, 24) < b.line.slice(0, 24) ? -1 : a.line.slice(0, 24) > b.line.slice(0, 24) ? 1 : 0));
    yield* options.lines === 0 ? [] : last.slice(-options.lines);
    while (options.follow && !options.signal.aborted) {
      try {
        await sleep(FOLLOW_POLL_MS, undefined, { signal: options.signal });
      } catch {
        return; // aborted: the asker went away
      }
      for (const file of followed) yield* await file.poll();
    }
  } finally {
    await Promise.all(followed.map((file) => file.close()));
  }
}
