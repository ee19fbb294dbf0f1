import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Request authentication with the domain key (docs/protocol.md): HMAC-SHA256 over
 * the method, the path, a timestamp, a nonce, the sender, the receiver's identity (tls/identity.ts)
 * and the body's hash. A request is accepted once, and only by the peer it was signed for: its
 * timestamp must be recent, its nonce new, and the receiver named must be the one checking it.
 *
 * The body's hash travels as a header, under the signature, so a receiver checks everything but
 * the body itself before reading a byte of it: an unauthenticated request never gets its body read.
 */

export const AUTH_HEADERS = {
  signature: 'x-flotilla-signature',
  time: 'x-flotilla-time',
  nonce: 'x-flotilla-nonce',
  sender: 'x-flotilla-sender',
  bodyHash: 'x-flotilla-body-sha256',
} as const;

/** Wide enough for unsynchronised clocks on one network, narrow enough to bound the nonce memory. */
export const MAX_CLOCK_SKEW_MS = 60_000;

export interface SignedParts {
  method: string;
  path: string;
  time: string;
  nonce: string;
  sender: string;
  receiver: string;
  bodyHash: string;
}

export function bodyHash(body: Uint8Array | string): string {
  return createHash('sha256').update(body).digest('hex');
}

function signature(key: Uint8Array, parts: SignedParts): string {
  // The first line keeps request signatures apart from the other HMACs made with the same key.
  return createHmac('sha256', key)
    .update(['flotilla-request-v2', parts.method.toUpperCase(), parts.path, parts.time, parts.nonce, parts.sender, parts.receiver, parts.bodyHash].join('\n'))
    .digest('hex');
}

export interface RequestToSign {
  method: string;
  path: string;
  sender: string;
  /** The identity of the peer the request is for: no other peer accepts it. */
  receiver: string;
  body?: Uint8Array | string;
  /** The body's SHA-256, when it is streamed from a file rather than given (an upload). */
  bodyHash?: string;
}

export function signRequest(key: Uint8Array, request: RequestToSign): Record<string, string> {
  const time = String(Date.now());
  const nonce = randomBytes(16).toString('hex');
  const hash = request.bodyHash ?? bodyHash(request.body ?? '');
  return {
    [AUTH_HEADERS.time]: time,
    [AUTH_HEADERS.nonce]: nonce,
    [AUTH_HEADERS.sender]: request.sender,
    [AUTH_HEADERS.bodyHash]: hash,
    [AUTH_HEADERS.signature]: signature(key, { method: request.method, path: request.path, sender: request.sender, receiver: request.receiver, time, nonce, bodyHash: hash }),
  };
}

/**
 * Remembers the nonces seen for as long as their requests can be valid: a request is good from
 * MAX_CLOCK_SKEW_MS before its timestamp to MAX_CLOCK_SKEW_MS after it, so a nonce is kept for
 * twice the skew after it was first seen. Only requests whose signature checked out reach it.
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();
  private sweptAt = 0;

  /** True the first time a nonce is offered within the window. */
  accept(nonce: string, now = Date.now()): boolean {
    if (now - this.sweptAt > MAX_CLOCK_SKEW_MS) {
      this.sweptAt = now;
      // Insertion order is arrival order: the old ones are at the front.
      for (const [old, at] of this.seen) {
        if (now - at <= 2 * MAX_CLOCK_SKEW_MS) break;
        this.seen.delete(old);
      }
    }
    if (this.seen.has(nonce)) return false;
    this.seen.set(nonce, now);
    return true;
  }
}

/**
 * The answer to a signed request carries this MAC, made with the key that checked the request, over
 * the request's nonce, the status and the body's hash: an answer is good for that one request and
 * comes from a holder of the domain key. A client takes a 200 answer only with it, so a certificate
 * alone (a stolen CA key, say) does not let anyone pass for a peer (docs/security.md).
 */
export const ANSWER_SIGNATURE_HEADER = 'x-flotilla-answer-signature';

/** The signature of an answer with `status` whose body hashes to `answerBodyHash` (bodyHash). */
export function answerSignature(key: Uint8Array, nonce: string, status: number, answerBodyHash: string): string {
  return createHmac('sha256', key).update(['flotilla-answer-v1', nonce, String(status), answerBodyHash].join('\n')).digest('hex');
}

/** Whether `given` (the answer's ANSWER_SIGNATURE_HEADER) is the MAC of this answer to the request with `nonce`. */
export function answerSigned(key: Uint8Array, nonce: string, status: number, body: Uint8Array | string, given: string | string[] | undefined): boolean {
  if (typeof given !== 'string' || !/^[0-9a-f]{64}$/.test(given)) return false;
  return timingSafeEqual(Buffer.from(answerSignature(key, nonce, status, bodyHash(body)), 'hex'), Buffer.from(given, 'hex'));
}

export type AuthFailure = 'missing' | 'stale' | 'bad-signature' | 'replayed';

export interface VerifiedHeaders {
  sender: string;
  /** The request's nonce, which the answer's signature names (answerSignature). */
  nonce: string;
  /** What the body must hash to; the caller checks it once it has read the body. */
  bodyHash: string;
}

/**
 * Checks a request's authentication headers, before its body is read; returns why it fails, or
 * the sender and the body hash the signature covers.
 */
export function verifyRequestHeaders(
  key: Uint8Array,
  guard: ReplayGuard,
  request: { method: string; path: string; receiver: string },
  headers: Record<string, string | string[] | undefined>,
): { failure: AuthFailure } | VerifiedHeaders {
  const header = (name: string) => {
    const value = headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  const time = header(AUTH_HEADERS.time);
  const nonce = header(AUTH_HEADERS.nonce);
  const sender = header(AUTH_HEADERS.sender);
  const hash = header(AUTH_HEADERS.bodyHash);
  const given = header(AUTH_HEADERS.signature);
  if (!time || !nonce || nonce.length > 64 || sender === undefined || sender.length > 128 || !hash || !/^[0-9a-f]{64}$/.test(hash) || !given || !/^[0-9a-f]{64}$/.test(given)) {
    return { failure: 'missing' };
  }
  if (!/^\d{1,16}$/.test(time) || Math.abs(Date.now() - Number(time)) > MAX_CLOCK_SKEW_MS) return { failure: 'stale' };
  const parts = { ...request, time, nonce, sender, bodyHash: hash };
  const presented = Buffer.from(given, 'hex');
  if (!timingSafeEqual(Buffer.from(signature(key, parts), 'hex'), presented)) return { failure: 'bad-signature' };
  if (!guard.accept(nonce)) return { failure: 'replayed' };
  return { sender, nonce, bodyHash: hash };
}
