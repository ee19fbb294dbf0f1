import { isAbsolute } from 'node:path';
import { UsageError, type BackupRequest } from '@flotilla/core';
import { backupMessages } from './messages.js';

/** The archive path a backup request asks for: absolute, or the domain's default when absent. */
export function requestedTarget(body: Buffer, defaultTarget: string): string {
  let request: BackupRequest;
  try {
    request = body.length ? (JSON.parse(body.toString('utf8')) as BackupRequest) : {};
  } catch (error) {
    throw new UsageError(backupMessages.badRequest(`the body is not JSON (${(error as Error).message})`));
  }
  if (request === null || typeof request !== 'object') throw new UsageError(backupMessages.badRequest('the body is not an object'));
  if (request.target === undefined) return defaultTarget;
  if (typeof request.target !== 'string' || request.target === '') throw new UsageError(backupMessages.badRequest('"target" must be a non-empty string'));
  if (!isAbsolute(request.target)) throw new UsageError(backupMessages.relativeTarget(request.target));
  return request.target;
}
