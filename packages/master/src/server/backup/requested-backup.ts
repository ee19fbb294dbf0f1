import { isAbsolute } from 'node:path';
import { BackupRequestSchema, UsageError, parseMessage, type Logger } from '@flotilla/core';
import { backupMessages } from './messages.js';

/**
 * The archive path a backup request asks for: absolute, or the domain's default when absent (an
 * empty body asks for the default too). `what` names the request and its sender for a refusal.
 */
export function requestedTarget(body: Buffer, defaultTarget: string, what: string, log: Logger): string {
  const request = parseMessage(BackupRequestSchema, body.length ? body : {}, what, log);
  if (request.target === undefined) return defaultTarget;
  if (!isAbsolute(request.target)) throw new UsageError(backupMessages.relativeTarget(request.target));
  return request.target;
}
