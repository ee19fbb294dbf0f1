import { UnreachableError } from '../errors.js';

/** The peer could not be reached at all (refused, timed out, no route), or stopped answering midway. */
export class PeerUnreachableError extends UnreachableError {}

const CONNECTION_FAILURES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

/** A connection failure as PeerUnreachableError (exit 3); anything else as it is. */
export function connectionError(where: string, error: NodeJS.ErrnoException): Error {
  return CONNECTION_FAILURES.has(error.code ?? '') ? new PeerUnreachableError(`${where} is unreachable (${error.code})`, { cause: error }) : error;
}
