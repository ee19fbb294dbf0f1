import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import {
  DOMAIN_KEY_HEX,
  MAX_CLOCK_SKEW_MS,
  PeerRefusedKeyError,
  ReplayGuard,
  identitiesIn,
  keyRefreshAnswer,
  keyRefreshSigned,
  parseMessage,
  serverIdentity,
  writeDomainKey,
  writeFileAtomic,
  type DomainLayout,
  type KeyRefresh,
  type KeyRefreshAnswer,
  type Logger,
} from '@flotilla/core';

const MAX_PENDING = 100_000;
/**
 * The servers still to be handed the current key, each with the key it still holds, which the
 * refresh's answer is signed with (KeyRefreshAnswerSchema): written before the new key, kept with
 * it (and in backups). The list without keys is the file as versions before that wrote it: such a
 * server cannot be answered, and is not waited for (it starts again with --key-file).
 */
const PendingSchema = z.union([
  z.strictObject({ waiting: z.array(z.strictObject({ server: z.string().max(64), key: z.string().regex(DOMAIN_KEY_HEX) })).max(MAX_PENDING) }),
  z.strictObject({ servers: z.array(z.string().max(64)).max(MAX_PENDING) }),
]);

/** Server → the key it holds (hex). */
type Pending = Map<string, string>;

/**
 * The MASTER's side of `master rotate-key` (docs/operations.md): which servers missed the new key,
 * and the refresh by which each of them gets it once, proving itself with the key of its own
 * certificate, which a holder of the old domain key does not have.
 */
export class KeyRotation {
  private readonly guard = new ReplayGuard();
  /** Whether any server still waits for the key: known before a refresh's body is read (load()). */
  private awaited = false;

  constructor(
    private readonly layout: DomainLayout,
    private readonly log: Logger,
  ) {}

  private get pendingFile(): string {
    return join(this.layout.securityDir, 'key-pending.json');
  }

  private async pending(): Promise<Pending> {
    const text = await readFile(this.pendingFile, 'utf8').catch(() => undefined);
    if (text === undefined) return new Map();
    const file = parseMessage(PendingSchema, text, this.pendingFile);
    return new Map('waiting' in file ? file.waiting.map(({ server, key }) => [server, key]) : []);
  }

  private async keepPending(pending: Pending): Promise<void> {
    const waiting = [...pending].sort(([a], [b]) => a.localeCompare(b)).map(([server, key]) => ({ server, key }));
    await writeFileAtomic(this.pendingFile, `${JSON.stringify({ waiting })}\n`, { mode: 0o600 });
    this.awaited = pending.size > 0;
  }

  /** Reads who still waits for the key, so that admits() can answer on a request's headers alone. */
  async load(): Promise<void> {
    this.awaited = (await this.pending()).size > 0;
  }

  /**
   * Whether a key refresh may be read at all: only while a server missed a rotation. Otherwise the
   * public route is refused before its body is read, as a stranger's request costs nothing else.
   */
  admits(): boolean {
    return this.awaited;
  }

  /**
   * Records who missed `next`, holding `current` (one that missed an earlier rotation too keeps the
   * older key it holds), then makes `next` the domain's key.
   */
  async rotated(keyFile: string, current: Uint8Array, next: Buffer, missed: string[]): Promise<void> {
    const pending = await this.pending();
    for (const server of missed) if (!pending.has(server)) pending.set(server, Buffer.from(current).toString('hex'));
    await this.keepPending(pending);
    await writeDomainKey(keyFile, next);
  }

  /**
   * Checks a refresh and answers it with `key`, signed with the key the server holds; the server then
   * counts as having the new one. Refused: PeerRefusedKeyError (401).
   */
  async refresh(refresh: KeyRefresh, caPem: string, key: Uint8Array): Promise<KeyRefreshAnswer> {
    const refuse = (why: string): never => {
      this.log.warn('MA-0040', `refused a key refresh for ${refresh.server}: ${why}`);
      throw new PeerRefusedKeyError(`key refresh refused: ${why}`);
    };
    const pending = await this.pending();
    const held = pending.get(refresh.server) ?? refuse('that server is not waiting for a key; start it with --key-file');
    if (Math.abs(Date.now() - refresh.time) > MAX_CLOCK_SKEW_MS) refuse('stale');
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(refresh.certificate);
    } catch {
      return refuse('not a certificate');
    }
    const fromCa = certificate.verify(new X509Certificate(caPem).publicKey) && Date.parse(certificate.validTo) > Date.now();
    const names = identitiesIn({ subjectaltname: certificate.subjectAltName }).includes(serverIdentity(this.layout.name, refresh.server));
    if (!fromCa || !names) refuse(`the certificate is not the domain CA's for ${refresh.server}`);
    if (!keyRefreshSigned(this.layout.name, refresh)) refuse('the signature is not made with the certificate\'s key');
    if (!this.guard.accept(refresh.nonce)) refuse('replayed');
    pending.delete(refresh.server);
    await this.keepPending(pending);
    this.log.info('MA-0047', `${refresh.server} proved itself with its certificate and got the new domain key`);
    return keyRefreshAnswer(Buffer.from(held, 'hex'), this.layout.name, refresh.nonce, Buffer.from(key).toString('hex'));
  }
}
