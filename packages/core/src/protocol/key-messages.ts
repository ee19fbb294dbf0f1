import { createHmac, createPrivateKey, sign, timingSafeEqual, verify, X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { DOMAIN_KEY_HEX } from '../domain-key.js';
import { Sha256Schema } from '../file-entry.js';
import { API_PREFIX } from './sync.js';

/**
 * A new domain key, handed out (`master rotate-key`, docs/operations.md). Running servers get it
 * from the MASTER over their verified, signed channel (`POST /v2/key` at the server). A server that
 * was down at the rotation still signs with the old key, which the MASTER refuses; it proves who it
 * is with the key of its own certificate instead, which the old domain key cannot forge, and gets
 * the new key once (`POST /v2/key-refresh` at the MASTER).
 */
export const KEY_PATH = `${API_PREFIX}/key`;
export const ROTATE_KEY_PATH = `${API_PREFIX}/rotate-key`;
export const KEY_REFRESH_PATH = `${API_PREFIX}/key-refresh`;

const MAX_PEM_CHARS = 16 * 1024;
const hexKey = z.string().regex(DOMAIN_KEY_HEX, { error: 'must be 64 lowercase hexadecimal characters' });

/** `POST /v2/key` (MASTER → server). */
export const NewKeySchema = z.strictObject({ key: hexKey });
export type NewKey = z.infer<typeof NewKeySchema>;

/**
 * The answer to a key refresh: the new key, and a MAC of it made with the key the server still
 * holds (the one it missed the rotation with, which the MASTER keeps for it). A refresh is public,
 * so without the MAC anyone who got a server to ask (by answering 401) could hand it a key of
 * their own; with it, only a holder of the server's own key can.
 */
export const KeyRefreshAnswerSchema = z.strictObject({ key: hexKey, proof: Sha256Schema });
export type KeyRefreshAnswer = z.infer<typeof KeyRefreshAnswerSchema>;

function refreshAnswerMac(heldKey: Uint8Array, domain: string, refreshNonce: string, key: string): Buffer {
  return createHmac('sha256', heldKey).update(['flotilla-key-refresh-answer-v1', domain, refreshNonce, key].join('\n')).digest();
}

export function keyRefreshAnswer(heldKey: Uint8Array, domain: string, refreshNonce: string, key: string): KeyRefreshAnswer {
  return { key, proof: refreshAnswerMac(heldKey, domain, refreshNonce, key).toString('hex') };
}

/** Whether `answer` was made for the refresh with `refreshNonce` by a holder of `heldKey`. */
export function keyRefreshAnswerGenuine(heldKey: Uint8Array, domain: string, refreshNonce: string, answer: KeyRefreshAnswer): boolean {
  return timingSafeEqual(refreshAnswerMac(heldKey, domain, refreshNonce, answer.key), Buffer.from(answer.proof, 'hex'));
}

/** What `master rotate-key --json` prints. */
export const KeyRotationResultSchema = z.strictObject({
  domain: z.string().max(64),
  delivered: z.array(z.string().max(64)).max(100_000),
  pending: z.array(z.string().max(64)).max(100_000),
});
export type KeyRotationResult = z.infer<typeof KeyRotationResultSchema>;

/** `POST /v2/key-refresh`: a server's proof, made with the key of its certificate. */
export const KeyRefreshSchema = z.strictObject({
  server: z.string().max(64),
  certificate: z.string().max(MAX_PEM_CHARS),
  time: z.number().int().nonnegative(),
  nonce: z.string().regex(/^[0-9a-f]{32}$/),
  signature: z.string().max(1024),
});
export type KeyRefresh = z.infer<typeof KeyRefreshSchema>;

function refreshText(domain: string, refresh: Pick<KeyRefresh, 'server' | 'time' | 'nonce'>): Buffer {
  return Buffer.from(['flotilla-key-refresh-v1', domain, refresh.server, String(refresh.time), refresh.nonce].join('\n'));
}

export function signKeyRefresh(domain: string, refresh: Pick<KeyRefresh, 'server' | 'time' | 'nonce'>, privateKeyPem: string): string {
  return sign('sha256', refreshText(domain, refresh), createPrivateKey(privateKeyPem)).toString('base64');
}

/** Whether `refresh` was signed with the key of its certificate (the chain and identity are the caller's to check). */
export function keyRefreshSigned(domain: string, refresh: KeyRefresh): boolean {
  try {
    return verify('sha256', refreshText(domain, refresh), new X509Certificate(refresh.certificate).publicKey, Buffer.from(refresh.signature, 'base64'));
  } catch {
    return false;
  }
}
