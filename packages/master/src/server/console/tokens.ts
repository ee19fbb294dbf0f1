import { deriveToken, sameToken } from '@flotilla/core';

/**
 * The web console's credentials, derived from the domain key so that the MASTER keeps no session
 * store: `base64url(expiry) + '.' + HMAC(key, purpose + ':' + expiry)`, expiry in seconds since
 * the epoch. A login link and a session cookie have different purposes, so neither can stand in
 * for the other, and neither reveals the key.
 */
export type TokenPurpose = 'console' | 'console-session';

/** How long a login link printed by `master console-url` lets its holder in, by default. */
export const DEFAULT_VALID_HOURS = 12;
/** Longer-lived links would be credentials people keep in notes: a week at most. */
export const MAX_VALID_HOURS = 24 * 7;

export type TokenCheck = { ok: true; expires: Date } | { ok: false; reason: 'missing' | 'malformed' | 'wrong signature' | 'expired' };

export function issueToken(key: Uint8Array, purpose: TokenPurpose, expires: Date): string {
  const seconds = String(Math.floor(expires.getTime() / 1000));
  return `${Buffer.from(seconds).toString('base64url')}.${deriveToken(key, `${purpose}:${seconds}`)}`;
}

export function checkToken(key: Uint8Array, purpose: TokenPurpose, token: string | undefined, now = Date.now()): TokenCheck {
  if (!token) return { ok: false, reason: 'missing' };
  const parts = token.split('.');
  const seconds = parts.length === 2 ? Buffer.from(parts[0]!, 'base64url').toString('utf8') : '';
  if (!/^\d{1,12}$/.test(seconds)) return { ok: false, reason: 'malformed' };
  if (!sameToken(parts[1]!, deriveToken(key, `${purpose}:${seconds}`))) return { ok: false, reason: 'wrong signature' };
  const expires = new Date(Number(seconds) * 1000);
  if (expires.getTime() <= now) return { ok: false, reason: 'expired' };
  return { ok: true, expires };
}
