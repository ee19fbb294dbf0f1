import { ExitCode } from '../errors.js';

/** The signals an operator stops a foreground server with (docs/operations.md, "Signals"). */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

function exitInterrupted(): void {
  process.exit(ExitCode.interrupted);
}

/** Every command's default: Ctrl-C ends it at once with exit code 130. */
export function exitOnInterrupt(): void {
  process.on('SIGINT', exitInterrupted);
}

/**
 * From now on SIGINT and SIGTERM run `handler` instead of ending the process: a server that serves
 * stops gracefully (leaves the heartbeat group, reports SHUTDOWN), a waiting `start --detach` takes
 * back what it started. Each signal is handled once; a second one while stopping changes nothing.
 * SIGHUP is not a stop: it is the log files' signal (`reopenLogsOnHangup`, in logs/log-file.ts: every
 * command loads this module, and only servers need the log files' and their configuration's).
 */
export function onStopSignals(handler: (signal: NodeJS.Signals) => void): () => void {
  process.removeListener('SIGINT', exitInterrupted);
  let handled = false;
  const listener = (signal: NodeJS.Signals) => {
    if (handled) return;
    handled = true;
    handler(signal);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, listener);
  return () => {
    for (const signal of STOP_SIGNALS) process.removeListener(signal, listener);
    exitOnInterrupt();
  };
}
