/** Which log a page tails: a server's own, or the output of one of its applications. */
export interface LogSource {
  server: string;
  app?: string;
}

/**
 * Where the console's log tail gets its lines: the lines of a log as they are written, from its
 * last few, until `signal` aborts. This is the one seam between the page side (log-tail.ts) and
 * where the lines come from: the MASTER reads them from the server itself, on whatever node it
 * runs, as `master logs --follow` does (master-server.ts, consoleLogLines).
 */
export type LogLines = (source: LogSource, signal: AbortSignal) => AsyncIterable<string>;
