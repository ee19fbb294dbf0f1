import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Request authentication with the domain key (SPEC section 10): HMAC-SHA256 over the method, the
 * path, a timestamp, a nonce, the sender and the body's hash. A request is accepted once: its
 * timestamp must be recent and its nonce new, so a captured request cannot be replayed.
 */

export const AUTH_HEADERS = {
  signature: 'x-flotilla-signature',
  time: 'x-flotilla-time',
  nonce: 'x-flotilla-nonce',
  sender: 'x-flotilla-sender',
} as const;

/** Wide enough for unsynchronised clocks on one network, narrow enough to bound the nonce memory. */
export const MAX_CLOCK_SKEW_MS = 60_000;

export interface SignedParts {
  method: string;
  path: string;
  time: string;
  nonce: string;
  sender: string;
  body: Uint8Array | string;
}

function signature(key: Uint8Array, parts: SignedParts): string {
  const bodyHash = createHash('sha256').update(parts.body).digest('hex');
  return createHmac('sha256', key)
    .update([parts.method.toUpperCase(), parts.path, parts.time, parts.nonce, parts.sender, bodyHash].join('\n'))
    .digest('hex');
}

export function signRequest(key: Uint8Array, method: string, path: string, sender: string, body: Uint8Array | string = ''): Record<string, string> {
  const time = String(Date.now());
  const nonce = randomBytes(16).toString('hex');
  return {
    [AUTH_HEADERS.time]: time,
    [AUTH_HEADERS.nonce]: nonce,
    [AUTH_HEADERS.sender]: sender,
    [AUTH_HEADERS.signature]: signature(key, { method, path, time, nonce, sender, body }),
  };
}

/** Remembers the nonces seen inside the clock-skew window. */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  /** True the first time a nonce is offered within the window. */
  accept(nonce: string, now = Date.now()): boolean {
    if (this.seen.size > 10_000) {
      for (const [old, at] of this.seen) if (now - at > 2 * MAX_CLOCK_SKEW_MS) this.seen.delete(old);
    }
    if (this.seen.has(nonce)) return false;
    this.seen.set(nonce, now);
    return true;
  }
}

export type AuthFailure = 'missing' | 'stale' | 'bad-signature' | 'replayed';

/** Checks a request's authentication headers; returns why it fails, or undefined when it is good. */
export function verifyRequest(
  key: Uint8Array,
  guard: ReplayGuard,
  method: string,
  path: string,
  headers: Record<string, string | string[] | undefined>,
  body: Uint8Array | string,
): AuthFailure | undefined {
  const header = (name: string) => {
    const value = headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  const time = header(AUTH_HEADERS.time);
  const nonce = header(AUTH_HEADERS.nonce);
  const sender = header(AUTH_HEADERS.sender);
  const given = header(AUTH_HEADERS.signature);
  if (!time || !nonce || sender === undefined || !given || !/^[0-9a-f]{64}$/.test(given)) return 'missing';
  if (!/^\d+$/.test(time) || Math.abs(Date.now() - Number(time)) > MAX_CLOCK_SKEW_MS) return 'stale';
  const expected = signature(key, { method, path, time, nonce, sender, body });
  if (!timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(given, 'hex'))) return 'bad-signature';
  if (!guard.accept(nonce)) return 'replayed';
  return undefined;
}
