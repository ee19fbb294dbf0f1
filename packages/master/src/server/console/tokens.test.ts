import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkToken, issueToken } from './tokens.js';

describe('console tokens', () => {
  const key = randomBytes(32);
  const inAnHour = new Date(Date.now() + 3_600_000);

  it('let their holder in until they expire, to the second', () => {
    const token = issueToken(key, 'console', inAnHour);
    const check = checkToken(key, 'console', token);
    expect(check).toEqual({ ok: true, expires: new Date(Math.floor(inAnHour.getTime() / 1000) * 1000) });
    expect(checkToken(key, 'console', token, inAnHour.getTime() + 1000)).toEqual({ ok: false, reason: 'expired' });
  });

  it('never carry the key, and hold only for their own purpose and key', () => {
    const token = issueToken(key, 'console', inAnHour);
    expect(token).not.toContain(key.toString('hex'));
    expect(token).not.toContain(key.toString('base64url'));
    expect(checkToken(key, 'console-session', token)).toEqual({ ok: false, reason: 'wrong signature' });
    expect(checkToken(randomBytes(32), 'console', token)).toEqual({ ok: false, reason: 'wrong signature' });
  });

  it('refuse a changed expiry, garbage and nothing', () => {
    const [, mac] = issueToken(key, 'console', inAnHour).split('.');
    const later = Buffer.from(String(Math.floor(inAnHour.getTime() / 1000) + 86_400)).toString('base64url');
    expect(checkToken(key, 'console', `${later}.${mac}`)).toEqual({ ok: false, reason: 'wrong signature' });
    expect(checkToken(key, 'console', 'garbage')).toEqual({ ok: false, reason: 'malformed' });
    expect(checkToken(key, 'console', 'a.b.c')).toEqual({ ok: false, reason: 'malformed' });
    expect(checkToken(key, 'console', undefined)).toEqual({ ok: false, reason: 'missing' });
  });

  it('keep read-only and admin sessions apart: neither kind passes for the other, and a session carries its id', async () => {
    const { checkLogin, newSession } = await import('./session.js');
    const admin = issueToken(key, 'console-admin', inAnHour);
    expect(checkLogin(key, admin)).toMatchObject({ ok: true, admin: true });
    expect(checkLogin(key, issueToken(key, 'console', inAnHour))).toMatchObject({ ok: true, admin: false });
    expect(checkLogin(key, issueToken(key, 'console-admin-session', inAnHour, 'a1b2c3d4e5f6'))).toEqual({ ok: false, reason: 'wrong signature' });
    const readOnlySession = newSession(key, false, inAnHour);
    expect(checkToken(key, 'console-admin-session', readOnlySession)).toEqual({ ok: false, reason: 'wrong signature' });
    expect(checkToken(key, 'console-session', readOnlySession)).toMatchObject({ ok: true, id: expect.stringMatching(/^[0-9a-f]{12}$/) });
    // An id cannot be swapped into a signed session.
    const [payload, mac] = newSession(key, true, inAnHour).split('.');
    const swapped = Buffer.from(Buffer.from(payload!, 'base64url').toString().replace(/:.*/, ':000000000000')).toString('base64url');
    expect(checkToken(key, 'console-admin-session', `${swapped}.${mac}`)).toEqual({ ok: false, reason: 'wrong signature' });
  });
});

