import { z } from 'zod';
import { API_PREFIX } from './sync.js';

/**
 * The messages of trust (docs/security.md).
 *
 * `POST /v2/certificate` (docs/protocol.md): a server sends the public half of a key it made and
 * the addresses of its machine; the MASTER answers a certificate from the domain's CA for the
 * sender's identity, and the CA itself.
 */
export const CERTIFICATE_PATH = `${API_PREFIX}/certificate`;

/** A PEM certificate or key of ours is well under a kilobyte; this bounds what a peer may send. */
const MAX_PEM_CHARS = 16 * 1024;

/** A server asks for a few names of its own machine; a machine with more addresses lists the first ones. */
export const MAX_CERTIFICATE_HOSTS = 64;

export const CertificateRequestSchema = z.strictObject({
  publicKey: z.string().max(MAX_PEM_CHARS),
  hosts: z.array(z.string().max(253)).max(MAX_CERTIFICATE_HOSTS),
});
export type CertificateRequest = z.infer<typeof CertificateRequestSchema>;

export const CertificateAnswerSchema = z.strictObject({
  certificate: z.string().max(MAX_PEM_CHARS),
  ca: z.string().max(MAX_PEM_CHARS),
});
export type CertificateAnswer = z.infer<typeof CertificateAnswerSchema>;

/** `GET /v2/trust?nonce=…`: the verified first contact's answer (tls/first-contact.ts). */
export const TrustAnswerSchema = z.strictObject({
  domain: z.string().max(64),
  ca: z.string().max(MAX_PEM_CHARS),
  proof: z.string().regex(/^[0-9a-f]{64}$/),
});
export type TrustAnswer = z.infer<typeof TrustAnswerSchema>;
