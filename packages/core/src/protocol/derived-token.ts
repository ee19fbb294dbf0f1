import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Credentials derived from the domain key for clients that cannot sign requests (a browser, a
 * Prometheus server): an HMAC of the key over a purpose string, so that each grants one thing
 * only and none of them reveals the key.
 */
export function deriveToken(key: Uint8Array, purpose: string): string {
  return createHmac('sha256', key).update(purpose).digest('base64url');
}

/** Compares a presented token with the expected one in constant time. */
export function sameToken(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
