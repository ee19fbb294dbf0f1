import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { serverLayout, type DomainLayout } from '@flotilla/core';

/** Which log a page tails: a server's own, or the output of one of its applications. */
export interface LogSource {
  server: string;
  app?: string;
}

/**
 * Where the console's log tail gets its lines: the lines of a log as they are written, from its
 * last few, until `signal` aborts. This is the one seam between the page side (log-tail.ts) and
 * where the lines come from: read on this machine here, and read through the MASTER from the
 * server's node once `master logs` can (docs/console.md).
 */
export type LogLines = (source: LogSource, signal: AbortSignal) => AsyncIterable<string>;

/** How far back a tail starts: the last lines of a long log, not all of it. */
const TAIL_BYTES = 64 * 1024;
/** How often the file is looked at: a line shows within this of being written. */
const POLL_MS = 500;
/** A line longer than this is cut: a log line, not a dump. */
const MAX_LINE = 8 * 1024;

/** The files a detached server and its applications write (managed start, app-manager.ts). */
export function localLogFile(layout: DomainLayout, source: LogSource): string {
  const { logsDir } = serverLayout(layout, source.server);
  return join(logsDir, source.app ? `app-${source.app}.log` : `${source.server}.log`);
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/**
 * A log file on this machine, followed: its last lines, then each line as it is written. A file
 * that is not there yet is said once, and waited for; one that shrank (rotated) is read from its
 * start. Lines of the file and these notes both come as lines: the page shows them alike.
 */
export async function* localLogLines(file: string, signal: AbortSignal): AsyncIterable<string> {
  let offset: number | undefined;
  let rest = '';
  let missing = false;
  /** A tail that starts inside the file starts inside a line: that piece is dropped. */
  let midLine = false;
  while (!signal.aborted) {
    const info = await stat(file).catch(() => undefined);
    if (!info) {
      if (!missing) yield `(no log at ${file} yet: a server started in the foreground logs to its terminal)`;
      missing = true;
      offset = 0;
    } else {
      missing = false;
      if (offset === undefined) {
        offset = Math.max(0, info.size - TAIL_BYTES);
        midLine = offset > 0;
      }
      if (info.size < offset) {
        offset = 0;
        rest = '';
      }
      if (info.size > offset) {
        const handle = await open(file, 'r');
        let lines: string[];
        try {
          const chunk = Buffer.alloc(Math.min(info.size - offset, TAIL_BYTES));
          const { bytesRead } = await handle.read(chunk, 0, chunk.length, offset);
          offset += bytesRead;
          lines = (rest + chunk.subarray(0, bytesRead).toString('utf8')).split('\n');
        } finally {
          await handle.close();
        }
        rest = lines.pop()!.slice(0, MAX_LINE);
        if (midLine && lines.length) {
          lines.shift();
          midLine = false;
        }
        for (const line of lines) if (line) yield line.slice(0, MAX_LINE);
        continue;
      }
    }
    await pause(POLL_MS, signal);
  }
}
