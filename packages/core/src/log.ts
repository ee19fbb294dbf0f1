import { pino, type Logger as Pino } from 'pino';
import { LOG_CODES, type LogCode } from './log-codes.js';
import { openLogFile } from './logs/log-file.js';

/**
 * Server logs: one JSON line per event (pino), each with a stable code from LOG_CODES so operators
 * can grep and alert on it, e.g. `"msg":"[MS-0052] Receiving the configuration failed. ..."`.
 */
export interface Logger {
  info(code: LogCode, message?: string): void;
  warn(code: LogCode, message?: string): void;
  error(code: LogCode, message?: string): void;
}

export interface LoggerOptions {
  domain: string;
  server: string;
  /** A file to append to (detached servers: rotated, reopened at SIGHUP), else stderr. */
  file?: string;
}

export function createLogger(options: LoggerOptions): Logger {
  // Synchronous writes: a line logged just before a SIGKILL must still be on disk.
  const file = options.file === undefined ? undefined : openLogFile(options.file);
  const destination = file ? { write: (line: string) => file.write(line) } : pino.destination({ dest: 2, sync: true });
  const base: Pino = pino(
    {
      base: { domain: options.domain, server: options.server, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  const line = (code: LogCode, message?: string) => `[${code}] ${message ?? LOG_CODES[code]}`;
  return {
    info: (code, message) => base.info({ code }, line(code, message)),
    warn: (code, message) => base.warn({ code }, line(code, message)),
    error: (code, message) => base.error({ code }, line(code, message)),
  };
}
