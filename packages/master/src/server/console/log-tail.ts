import type { ServerResponse } from 'node:http';
import type { LogLines, LogSource } from './log-lines.js';
import { CONSOLE_HEADERS } from './pages.js';

function send(response: ServerResponse, event: 'line' | 'note', data: string): void {
  response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/**
 * A log tailed to the page as server-sent events: every line `lines` gives, until the page goes
 * or its session ends. Where the lines come from is `lines`'s business (log-lines.ts).
 */
export async function tailLog(response: ServerResponse, lines: LogLines, source: LogSource, expires: Date): Promise<void> {
  response.writeHead(200, { ...CONSOLE_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
  // A log that could not be read is said once; the page does not reconnect on its own.
  response.write('retry: 5000\n\n');
  const controller = new AbortController();
  const ending = setTimeout(() => controller.abort(), Math.max(0, expires.getTime() - Date.now()));
  response.on('close', () => controller.abort());
  try {
    for await (const line of lines(source, controller.signal)) {
      if (controller.signal.aborted) break;
      send(response, 'line', line);
    }
  } catch (error) {
    if (!controller.signal.aborted) send(response, 'note', `the log cannot be read: ${(error as Error).message}`);
  } finally {
    clearTimeout(ending);
    response.end();
  }
}
