import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { deriveToken, sameToken } from '@flotilla/core';
import { readCookie } from './session-cookie.js';
import { checkToken, issueToken, type TokenCheck, type TokenPurpose } from './tokens.js';

/** A logged-in browser: read-only, or admin (from `master console-url --admin`). */
export interface ConsoleSession {
  /** Names the session in the log: every change it makes carries it (docs/console.md). */
  id: string;
  admin: boolean;
  expires: Date;
  /** The per-session token every change must carry in a header: another site cannot read it. */
  changeToken: string;
}

export type SessionCheck = { ok: true; session: ConsoleSession } | Exclude<TokenCheck, { ok: true }>;
export type LoginCheck = { ok: true; admin: boolean; expires: Date } | Exclude<TokenCheck, { ok: true }>;

/** The header that carries the change token; a header, since a form on another site cannot set one. */
export const CHANGE_TOKEN_HEADER = 'x-flotilla-console-token';

/** Checks a token as a read-only one, then, if it is not signed as one, as an admin one. */
function checkEither(key: Uint8Array, token: string | undefined, purposes: [TokenPurpose, TokenPurpose]): TokenCheck & { admin?: boolean } {
  const readOnly = checkToken(key, purposes[0], token);
  if (readOnly.ok || readOnly.reason !== 'wrong signature') return { ...readOnly, admin: false };
  return { ...checkToken(key, purposes[1], token), admin: true };
}

/** A login link of either kind. */
export function checkLogin(key: Uint8Array, token: string | undefined): LoginCheck {
  const check = checkEither(key, token, ['console', 'console-admin']);
  return check.ok ? { ok: true, admin: check.admin!, expires: check.expires } : { ok: false, reason: check.reason };
}

/** The cookie value of a new session of the kind the login link gave. */
export function newSession(key: Uint8Array, admin: boolean, expires: Date): string {
  return issueToken(key, admin ? 'console-admin-session' : 'console-session', expires, randomBytes(6).toString('hex'));
}

export function checkSession(key: Uint8Array, request: IncomingMessage, cookie: string): SessionCheck {
  const value = readCookie(request, cookie);
  const check = checkEither(key, value, ['console-session', 'console-admin-session']);
  if (!check.ok) return { ok: false, reason: check.reason };
  if (!check.id) return { ok: false, reason: 'malformed' };
  return { ok: true, session: { id: check.id, admin: check.admin!, expires: check.expires, changeToken: deriveToken(key, `console-change:${value}`) } };
}

/**
 * Why a change request must be refused, or undefined. Beyond the SameSite=Strict cookie: the
 * request's Origin must be the console's own (browsers send it with every POST) and, where the
 * browser says so, Sec-Fetch-Site must be same-origin; and it must carry the session's change
 * token, which only the console's own page can read.
 */
export function changeRefusal(request: IncomingMessage, session: ConsoleSession): string | undefined {
  if (!session.admin) return 'a read-only session';
  const origin = request.headers.origin;
  const own = `https://${request.headers.host ?? ''}`;
  if (origin !== own) return origin ? `from another origin (${origin.slice(0, 200)})` : 'no Origin header';
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return `a ${String(site).slice(0, 40)} request`;
  const token = request.headers[CHANGE_TOKEN_HEADER];
  if (typeof token !== 'string' || !sameToken(token, session.changeToken)) return 'no valid change token';
  return undefined;
}
