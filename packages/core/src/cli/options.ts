import { UsageError } from '../errors.js';

/**
 * Validates a port given on the command line. Options are parsed as strings so the message can
 * quote what the user typed ("--port abc"), not what a number parser made of it.
 */
export function parsePortOption(option: string, value: string | number): number {
  const text = String(value).trim();
  const port = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`${option} ${text}: must be a port from 1 to 65535`);
  }
  return port;
}
