import { createSecureContext, type ConnectionOptions, type SecureContext } from 'node:tls';
import { expectIdentity } from './identity.js';

/**
 * TLS settings of every management connection, both ends (docs/security.md). TLS 1.3 only: every
 * peer is Flotilla itself (or curl, Prometheus and a browser, which all speak it), so nothing
 * older is needed, and 1.3 alone leaves no downgrade to negotiate.
 */
export const TLS_MIN_VERSION = 'TLSv1.3' as const;

/**
 * The server name (SNI) every Flotilla client sends: a management port presents the domain CA's
 * certificate to it, and may present an operator's own to anyone else (a browser naming a host).
 * Under `.invalid`, which no real host name ever is.
 */
export const FLOTILLA_SERVER_NAME = 'management.flotilla.invalid';

/**
 * The TLS 1.3 suites of both ends, AES-128-GCM first (OpenSSL's default puts AES-256 first, and a
 * Node server picks by its own order). A sync's content is encrypted by the MASTER and decrypted by
 * the server on their event loops, and AES-256 costs a third more per byte (openssl speed on the
 * bench machine: 2.3 against 3.1 GB/s). AES-128-GCM is the suite every TLS 1.3 peer must implement
 * (RFC 8446 section 9.1); the others stay accepted, and the peer is verified the same whichever it is.
 */
export const TLS_CIPHER_SUITES = 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256';

/** What a client trusts: the domain's CA, and the identity (identity.ts) its peer must have. */
export interface PeerTrust {
  /** The domain's CA certificate, PEM. */
  ca: string;
  /** The identity URI the peer's certificate must name. */
  identity: string;
}

/**
 * One secure context per CA: given `ca` as text, Node builds a context (and parses the CA) at every
 * connection, a millisecond of CPU each that a server reconnecting to its MASTER need not pay.
 */
const contexts = new Map<string, SecureContext>();
function contextFor(ca: string): SecureContext {
  let context = contexts.get(ca);
  if (!context) {
    context = createSecureContext({ ca, minVersion: TLS_MIN_VERSION, ciphers: TLS_CIPHER_SUITES });
    contexts.set(ca, context);
  }
  return context;
}

/** tls.connect / https options that verify the peer against `trust`. */
export function clientTlsOptions(trust: PeerTrust): ConnectionOptions {
  return {
    secureContext: contextFor(trust.ca),
    minVersion: TLS_MIN_VERSION,
    servername: FLOTILLA_SERVER_NAME,
    checkServerIdentity: expectIdentity(trust.identity),
  };
}
