import type { ConnectionOptions } from 'node:tls';
import { expectIdentity } from './identity.js';

/**
 * TLS settings of every management connection, both ends (SPEC section 10). TLS 1.3 only: every
 * peer is Flotilla itself (or curl, Prometheus and a browser, which all speak it), so nothing
 * older is needed, and 1.3 alone leaves no downgrade to negotiate.
 */
export const TLS_MIN_VERSION = 'TLSv1.3' as const;

/** What a client trusts: the domain's CA, and the identity (identity.ts) its peer must have. */
export interface PeerTrust {
  /** The domain's CA certificate, PEM. */
  ca: string;
  /** The identity URI the peer's certificate must name. */
  identity: string;
}

/** tls.connect / https options that verify the peer against `trust`. */
export function clientTlsOptions(trust: PeerTrust): ConnectionOptions {
  return { ca: trust.ca, minVersion: TLS_MIN_VERSION, checkServerIdentity: expectIdentity(trust.identity) };
}
