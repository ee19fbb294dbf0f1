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
});
