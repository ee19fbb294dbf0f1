import { createHash, createHmac, randomBytes, timingSafeEqual, X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { IntegrityError } from '../errors.js';
import { API_PREFIX, type MasterAddress } from '../protocol/sync.js';
import { connectionError } from '../protocol/peer-errors.js';
import { parseMessage } from '../protocol/parse-message.js';
import { TrustAnswerSchema, type TrustAnswer } from '../protocol/trust-messages.js';
import { masterIdentity, identitiesIn } from './identity.js';
import { FLOTILLA_SERVER_NAME, TLS_MIN_VERSION } from './options.js';

/**
 * The verified first contact (docs/security.md): a machine that holds only the
 * domain key learns the domain's CA from the MASTER, and believes it only once the MASTER proves
 * it holds the key. The question carries nothing but a fresh random nonce, so a man in the middle
 * learns nothing from it. The answer is an HMAC, under the key, of the nonce, the CA and the very
 * certificate the MASTER presented on this connection: an impostor cannot make one, and cannot
 * relay the real MASTER's either, since it names the MASTER's certificate, not the impostor's.
 */

export const TRUST_PATH = `${API_PREFIX}/trust`;
/** The answer is a certificate and a digest: a few kilobytes. */
const MAX_ANSWER_BYTES = 64 * 1024;

function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** What the MASTER answers to `nonce`, presenting `leaf` (DER) on the connection. */
export function trustProof(key: Uint8Array, domain: string, nonce: string, caPem: string, leaf: Uint8Array): string {
  // The first line keeps this HMAC apart from request signatures made with the same key.
  return createHmac('sha256', key)
    .update(['flotilla-trust-v1', domain, nonce, sha256(new X509Certificate(caPem).raw), sha256(leaf)].join('\n'))
    .digest('hex');
}

export const TRUST_NONCE = /^[0-9a-f]{64}$/;

/** The first contact is one small question; a MASTER that takes longer is treated as unreachable. */
export const FIRST_CONTACT_TIMEOUT_MS = 5_000;

/**
 * Asks the MASTER at `peer` for the CA of `domain` and returns it (PEM) once verified, or fails
 * with exit 4 saying why nothing was trusted.
 */
export async function learnDomainCa(peer: MasterAddress, key: Uint8Array, domain: string, timeoutMs: number): Promise<string> {
  const where = `${peer.address}:${peer.port}`;
  const nonce = randomBytes(32).toString('hex');
  const { body, leaf } = await fetchTrust(peer, `${TRUST_PATH}?nonce=${nonce}`, timeoutMs, where);
  const refused = (why: string) =>
    new IntegrityError(
      `could not verify the MASTER of domain ${domain} at ${where} (${why}): it is not that MASTER, or the key file is not that domain's key (a copy of its config/security/domain.key). Nothing it said was trusted and nothing was sent`,
    );
  let answer: TrustAnswer;
  try {
    answer = parseMessage(TrustAnswerSchema, body, 'its answer');
  } catch (error) {
    throw refused((error as Error).message);
  }
  let ca: X509Certificate;
  try {
    ca = new X509Certificate(answer.ca);
  } catch {
    throw refused('its CA is not a certificate');
  }
  const expected = trustProof(key, domain, nonce, answer.ca, leaf);
  if (!timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(answer.proof, 'hex'))) throw refused('wrong proof');
  const presented = new X509Certificate(leaf);
  if (!ca.ca || !presented.verify(ca.publicKey)) throw refused('its certificate is not from the CA it sent');
  if (!identitiesIn({ subjectaltname: presented.subjectAltName }).includes(masterIdentity(domain))) throw refused(`its certificate does not name ${masterIdentity(domain)}`);
  return answer.ca;
}

function fetchTrust(peer: MasterAddress, path: string, timeoutMs: number, where: string): Promise<{ body: Buffer; leaf: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: peer.address,
        port: peer.port,
        path,
        method: 'GET',
        agent: false,
        // Not yet verified: the proof in the answer is what decides, against this connection's certificate.
        rejectUnauthorized: false,
        minVersion: TLS_MIN_VERSION,
        servername: FLOTILLA_SERVER_NAME,
      },
      (response) => {
        const leaf = (response.socket as TLSSocket).getPeerCertificate().raw;
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) return req.destroy(new Error(`${where} sent more than ${MAX_ANSWER_BYTES} bytes`));
          chunks.push(chunk);
        });
        response.on('end', () => {
          clearTimeout(timer);
          if (response.statusCode !== 200) {
            reject(new IntegrityError(`the peer at ${where} answered the first contact with HTTP ${response.statusCode}: it is not a MASTER of this version`));
            return;
          }
          resolve({ body: Buffer.concat(chunks), leaf: leaf ?? Buffer.alloc(0) });
        });
        response.on('error', (error) => reject(connectionError(where, error as NodeJS.ErrnoException)));
      },
    );
    const timer = setTimeout(() => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(connectionError(where, error));
    });
    req.end();
  });
}
