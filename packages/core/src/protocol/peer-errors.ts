import { IntegrityError, UnreachableError } from '../errors.js';

/** The peer could not be reached at all (refused, timed out, no route), or stopped answering midway. */
export class PeerUnreachableError extends UnreachableError {}

/** The peer answered, but not as a verified peer of the domain: a TLS handshake or certificate check failed. */
export class PeerNotTrustedError extends IntegrityError {}

const CONNECTION_FAILURES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

/** OpenSSL's and Node's codes for a peer whose certificate is not what we trust, or that speaks no TLS. */
const TRUST_FAILURES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
]);

/**
 * A connection failure as PeerUnreachableError (exit 3), a peer that failed TLS verification as
 * PeerNotTrustedError (exit 4: something answers there, but not a verified peer); anything else
 * as it is.
 */
export function connectionError(where: string, error: NodeJS.ErrnoException): Error {
  if (CONNECTION_FAILURES.has(error.code ?? '')) return new PeerUnreachableError(`${where} is unreachable (${error.code})`, { cause: error });
  if (TRUST_FAILURES.has(error.code ?? '') || error.code?.startsWith('ERR_SSL_')) {
    return new PeerNotTrustedError(
      `refused ${where}: ${error.message} (${error.code}). It is not a verified peer of this domain: its certificate is not from the domain's CA (config/security/ca.crt), or it does not speak TLS 1.3`,
      { cause: error },
    );
  }
  return error;
}
