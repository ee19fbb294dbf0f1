import { closeSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { LogsSchema, type LogRotation } from '../config/schema.js';

/**
 * A log file the process writes to: the server's own (when detached), the MASTER's, each
 * application's stdout and stderr (docs/operations.md, "Logs"). Writes are synchronous, so a line
 * written just before a SIGKILL is on disk. Past `logs.maxBytes` the file is rotated (`x.log` →
 * `x.log.1` → … → `x.log.<keep>`, the oldest dropped); `reopen` (SIGHUP) opens the path again, so
 * that logrotate can move the file away without copytruncate.
 */
export class LogFile {
  private fd: number;
  private size: number;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    [this.fd, this.size] = openForAppend(path);
  }

  write(data: string | Uint8Array): void {
    this.writeLines([typeof data === 'string' ? Buffer.from(data) : data]);
  }

  /** Whole lines, each ending in a newline: a rotation falls between two of them, never inside one. */
  writeLines(lines: Uint8Array[]): void {
    try {
      let batch: Uint8Array[] = [];
      let batchBytes = 0;
      for (const line of lines) {
        if (this.size + batchBytes > 0 && this.size + batchBytes + line.length > rotation.maxBytes) {
          this.append(batch, batchBytes);
          if (this.size > 0) this.rotate();
          batch = [];
          batchBytes = 0;
        }
        batch.push(line);
        batchBytes += line.length;
      }
      this.append(batch, batchBytes);
    } catch {
      // A full disk or a removed directory: there is nowhere left to say so; the server serves on.
    }
  }

  private append(batch: Uint8Array[], bytes: number): void {
    if (bytes === 0) return;
    writeSync(this.fd, batch.length === 1 ? batch[0]! : Buffer.concat(batch));
    this.size += bytes;
  }

  /** Opens the path again: after logrotate (or anyone) moved the file away, writes go to a new one. */
  reopen(): void {
    let fd: number;
    let size: number;
    try {
      [fd, size] = openForAppend(this.path);
    } catch {
      return; // cannot open the path now (a removed directory, no permission): keep writing where we were
    }
    closeSync(this.fd);
    this.fd = fd;
    this.size = size;
  }

  close(): void {
    openFiles.delete(this.path);
    closeSync(this.fd);
  }

  private rotate(): void {
    closeSync(this.fd);
    const { keep } = rotation;
    rmSync(`${this.path}.${keep}`, { force: true });
    for (let index = keep - 1; index >= 1; index--) renameQuietly(`${this.path}.${index}`, `${this.path}.${index + 1}`);
    if (keep > 0) renameQuietly(this.path, `${this.path}.1`);
    else rmSync(this.path, { force: true });
    [this.fd, this.size] = openForAppend(this.path);
  }
}

function openForAppend(path: string): [number, number] {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'a', 0o640);
  return [fd, fstatSync(fd).size];
}

function renameQuietly(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** The configuration's `logs` until the process has read its configuration. */
let rotation: LogRotation = LogsSchema.parse({});
/** Every log file open in this process, by path: one writer per file, so rotation never races. */
const openFiles = new Map<string, LogFile>();

/** The one writer of `path` in this process. */
export function openLogFile(path: string): LogFile {
  let file = openFiles.get(path);
  if (!file) {
    file = new LogFile(path);
    openFiles.set(path, file);
  }
  return file;
}

/** The configuration's `logs` settings, for every log file of this process from now on. */
export function setLogRotation(settings: LogRotation): void {
  rotation = settings;
}

/** SIGHUP: every open log file is opened again at its path. Returns how many. */
export function reopenLogFiles(): number {
  for (const file of openFiles.values()) file.reopen();
  return openFiles.size;
}

/**
 * From now on SIGHUP reopens every log file of the process (logrotate moved them away) and stops
 * nothing; `reopened` hears how many files were reopened, to log it.
 */
export function reopenLogsOnHangup(reopened: (files: number) => void): void {
  process.on('SIGHUP', () => reopened(reopenLogFiles()));
}
