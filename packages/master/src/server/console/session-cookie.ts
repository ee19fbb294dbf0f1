import type { IncomingMessage } from 'node:http';
import { CONSOLE_PATH } from './paths.js';

/**
 * Cookies are not kept apart by port: two domains' MASTERs on one host would overwrite each
 * other's session under one name, so the name carries the domain.
 */
export function cookieName(domain: string): string {
  return `flotilla-console-${domain}`;
}

export function readCookie(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/**
 * HttpOnly: the page's scripts never see it. SameSite=Strict: another site cannot make the
 * browser use it. Path: it goes to the console only. Secure: it never leaves the browser but over
 * TLS, which is all the MASTER speaks.
 */
export function sessionCookie(name: string, value: string, expires: Date): string {
  const maxAge = Math.max(0, Math.floor((expires.getTime() - Date.now()) / 1000));
  return `${name}=${value}; Path=${CONSOLE_PATH}; Max-Age=${maxAge}; HttpOnly; Secure; SameSite=Strict`;
}
