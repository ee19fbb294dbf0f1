import { open, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { CONSOLE_HEADERS } from './pages.js';

/** How far back a tail starts: the last lines of a long log, not all of it. */
const TAIL_BYTES = 64 * 1024;
/** How often the file is looked at: a line shows within this of being written. */
const POLL_MS = 500;
/** A line longer than this is cut: a log line, not a dump. */
const MAX_LINE = 8 * 1024;

function send(response: ServerResponse, event: 'line' | 'note', data: string): void {
  response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/**
 * A log file, tailed to the page as server-sent events: its last lines, then every line as it is
 * written, until the page goes or its session ends. A file that is not there yet (a server that
 * never ran detached) is said, and waited for; one that shrank (rotated) is read from its start.
 */
export function tailLog(response: ServerResponse, file: string, expires: Date): void {
  response.writeHead(200, { ...CONSOLE_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
  response.write('retry: 2000\n\n');
  let offset: number | undefined;
  let rest = '';
  let missing = false;
  let busy = false;
  /** A tail that starts inside the file starts inside a line: that piece is dropped. */
  let midLine = false;
  const read = async () => {
    if (busy) return;
    busy = true;
    try {
      const info = await stat(file).catch(() => undefined);
      if (!info) {
        if (!missing) send(response, 'note', `no log at ${file} yet: a server started in the foreground logs to its terminal`);
        missing = true;
        offset = 0;
        return;
      }
      missing = false;
      if (offset === undefined) {
        offset = Math.max(0, info.size - TAIL_BYTES);
        midLine = offset > 0;
      }
      if (info.size < offset) {
        offset = 0;
        rest = '';
      }
      if (info.size === offset) return;
      const handle = await open(file, 'r');
      try {
        const chunk = Buffer.alloc(Math.min(info.size - offset, TAIL_BYTES));
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, offset);
        offset += bytesRead;
        const lines = (rest + chunk.subarray(0, bytesRead).toString('utf8')).split('\n');
        rest = lines.pop()!.slice(0, MAX_LINE);
        if (midLine && lines.length) {
          lines.shift();
          midLine = false;
        }
        for (const line of lines) if (line) send(response, 'line', line.slice(0, MAX_LINE));
      } finally {
        await handle.close();
      }
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => {
    if (Date.now() >= expires.getTime()) response.end();
    else void read().catch((error: Error) => send(response, 'note', `${file} cannot be read: ${error.message}`));
  }, POLL_MS);
  response.on('close', () => clearInterval(timer));
  void read().catch((error: Error) => send(response, 'note', `${file} cannot be read: ${error.message}`));
}
