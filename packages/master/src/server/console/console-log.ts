import type { LogCode, Logger } from '@flotilla/core';

/**
 * The MASTER's log lines the console's event list shows beside the heartbeat decisions: the
 * MASTER's start and stop, configuration changes and refusals, key rotations, its restarts of
 * failed servers, boot backups, and the console's own changes.
 */
const SHOWN: ReadonlySet<LogCode> = new Set<LogCode>([
  'MA-0002', 'MA-0003', 'MA-0020', 'MA-0021', 'MA-0046', 'MA-0051', 'MA-0052', 'MA-0053', 'MA-0056', 'MA-0070', 'MA-0090', 'MA-0091', 'MA-0092',
]);

export interface LoggedLine {
  level: 'info' | 'warn' | 'error';
  code: LogCode;
  message: string;
}

/** The MASTER's logger, with the lines the console shows also handed to `shown`. */
export function consoleLog(log: Logger, shown: (line: LoggedLine) => void): Logger {
  const tap = (level: LoggedLine['level']) => (code: LogCode, message?: string) => {
    log[level](code, message);
    if (SHOWN.has(code) && message) shown({ level, code, message });
  };
  return { info: tap('info'), warn: tap('warn'), error: tap('error') };
}
