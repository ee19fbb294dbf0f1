import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import {
  MAX_CLOCK_SKEW_MS,
  PeerRefusedKeyError,
  ReplayGuard,
  identitiesIn,
  keyRefreshSigned,
  parseMessage,
  serverIdentity,
  writeDomainKey,
  writeFileAtomic,
  type DomainLayout,
  type KeyRefresh,
  type Logger,
} from '@flotilla/core';

/** The servers still to be handed the current key: written before the key, kept with it (and in backups). */
const PendingSchema = z.strictObject({ servers: z.array(z.string().max(64)).max(100_000) });

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

  private async pending(): Promise<Set<string>> {
    const text = await readFile(this.pendingFile, 'utf8').catch(() => undefined);
    return new Set(text === undefined ? [] : parseMessage(PendingSchema, text, this.pendingFile).servers);
  }

  private async keepPending(servers: Set<string>): Promise<void> {
    await writeFileAtomic(this.pendingFile, `${JSON.stringify({ servers: [...servers].sort() })}\n`, { mode: 0o600 });
    this.awaited = servers.size > 0;
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

  /** Records who missed `next` (with those who missed an earlier one), then makes it the domain's key. */
  async rotated(keyFile: string, next: Buffer, missed: string[]): Promise<void> {
    const pending = await this.pending();
    for (const server of missed) pending.add(server);
    await this.keepPending(pending);
    await writeDomainKey(keyFile, next);
  }

  /** Checks a refresh; the server then counts as having the key. Refused: PeerRefusedKeyError (401). */
  async refresh(refresh: KeyRefresh, caPem: string): Promise<void> {
    const refuse = (why: string): never => {
      this.log.warn('MA-0040', `refused a key refresh for ${refresh.server}: ${why}`);
      throw new PeerRefusedKeyError(`key refresh refused: ${why}`);
    };
    const pending = await this.pending();
    if (!pending.has(refresh.server)) refuse('that server is not waiting for a key; start it with --key-file');
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
  }
}
