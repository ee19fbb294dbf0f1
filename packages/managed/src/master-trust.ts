import { FIRST_CONTACT_TIMEOUT_MS, learnDomainCa, readTrustedCa, type Logger, type MasterAddress } from '@flotilla/core';
import type { CacheStore } from './cache/cache-store.js';

/** The domain's CA as this server keeps it in its cache, once learned. */
export const TRUSTED_CA_FILE = 'ca.crt';

/**
 * The CA a server verifies its MASTER with (docs/security.md): the copy pinned in its cache, else the
 * domain's own on the MASTER's machine, else the one the MASTER proves at a verified first contact
 * with the domain key (core's tls/first-contact.ts), which is then pinned.
 */
export class MasterTrust {
  private known?: string;

  constructor(
    private readonly cache: CacheStore,
    private readonly domain: string,
    /** The domain key now (it changes at a rotation). */
    private readonly key: () => Uint8Array,
    private readonly sharedCaFile: string | undefined,
    private readonly log: Logger,
  ) {}

  /** The CA, if this server already holds one (no network). */
  async held(): Promise<string | undefined> {
    this.known ??= await readTrustedCa([this.cache.path(TRUSTED_CA_FILE), ...(this.sharedCaFile ? [this.sharedCaFile] : [])]);
    return this.known;
  }

  /** The CA, learned from the MASTER at `master` if this server holds none yet. */
  async ca(master: MasterAddress): Promise<string> {
    const held = await this.held();
    if (held !== undefined) return held;
    const learned = await learnDomainCa(master, this.key(), this.domain, FIRST_CONTACT_TIMEOUT_MS);
    await this.cache.writeFile(TRUSTED_CA_FILE, learned);
    this.log.info('MS-0042', `first contact: the MASTER at ${master.address}:${master.port} proved it holds the domain key; its CA is trusted from now on (${this.cache.path(TRUSTED_CA_FILE)})`);
    this.known = learned;
    return learned;
  }
}
