import { deriveToken, sameToken } from '@flotilla/core';

/**
 * The web console's credentials, derived from the domain key so that the MASTER keeps no session
 * store: `base64url(payload) + '.' + HMAC(key, purpose + ':' + payload)`, the payload being the
 * expiry in seconds since the epoch, and for a session `expiry:id`, a random id that names the
 * session in the log. Each purpose signs differently, so a login link cannot stand in for a
 * session, nor a read-only one for an admin one, and none reveals the key.
 */
export type TokenPurpose = 'console' | 'console-admin' | 'console-session' | 'console-admin-session';

/** How long a login link printed by `master console-url` lets its holder in, by default. */
export const DEFAULT_VALID_HOURS = 12;
/** Longer-lived links would be credentials people keep in notes: a week at most. */
export const MAX_VALID_HOURS = 24 * 7;

export type TokenCheck = { ok: true; expires: Date; id?: string } | { ok: false; reason: 'missing' | 'malformed' | 'wrong signature' | 'expired' };

const PAYLOAD = /^(\d{1,12})(?::([0-9a-f]{12}))?$/;

export function issueToken(key: Uint8Array, purpose: TokenPurpose, expires: Date, id?: string): string {
  const payload = `${Math.floor(expires.getTime() / 1000)}${id ? `:${id}` : ''}`;
  return `${Buffer.from(payload).toString('base64url')}.${deriveToken(key, `${purpose}:${payload}`)}`;
}

export function checkToken(key: Uint8Array, purpose: TokenPurpose, token: string | undefined, now = Date.now()): TokenCheck {
  if (!token) return { ok: false, reason: 'missing' };
  const parts = token.split('.');
  const payload = parts.length === 2 ? Buffer.from(parts[0]!, 'base64url').toString('utf8') : '';
  const parsed = PAYLOAD.exec(payload);
  if (!parsed) return { ok: false, reason: 'malformed' };
  if (!sameToken(parts[1]!, deriveToken(key, `${purpose}:${payload}`))) return { ok: false, reason: 'wrong signature' };
  const expires = new Date(Number(parsed[1]) * 1000);
  if (expires.getTime() <= now) return { ok: false, reason: 'expired' };
  return parsed[2] ? { ok: true, expires, id: parsed[2] } : { ok: true, expires };
}
