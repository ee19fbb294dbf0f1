import { readFile } from 'node:fs/promises';
import {
  CERTIFICATE_PATH,
  CertificateAnswerSchema,
  IntegrityError,
  MAX_CERTIFICATE_HOSTS,
  hostsFor,
  issueCertificate,
  needsRenewal,
  newKeyPair,
  parseMessage,
  provisionalCertificate,
  readDomainCa,
  serverIdentity,
  type DomainConfig,
  type DomainFiles,
  type Logger,
  type PeerClient,
  type TlsCredentials,
} from '@flotilla/core';
import type { CacheStore } from './cache/cache-store.js';

/** The server's key and certificate in its cache, beside the copy of the domain key. */
const KEY_FILE = 'tls.key';
const CERTIFICATE_FILE = 'tls.crt';


/**
 * The certificate a managed server's management port presents (docs/security.md): issued by the
 * domain's CA through the MASTER, renewed at every start and at re-attach when it nears its end or
 * its names changed, kept in the cache so a server that starts without its MASTER still presents
 * it. On the MASTER's machine, with the MASTER down, the server issues its own from the CA's files.
 */
export class ServerCertificate {
  private current?: TlsCredentials;

  constructor(
    private readonly cache: CacheStore,
    private readonly domain: string,
    private readonly server: string,
    private readonly log: Logger,
  ) {}

  get identity(): string {
    return serverIdentity(this.domain, this.server);
  }

  private hosts(config: DomainConfig): string[] {
    const settings = config.servers[this.server]!;
    return hostsFor(settings.address, config.nodes[settings.node]?.host).slice(0, MAX_CERTIFICATE_HOSTS);
  }

  /**
   * The credentials to listen with: renewed through `client` (a verified MASTER) when needed and
   * possible, else those in the cache, else issued from the CA files of a shared domain directory,
   * else a provisional one.
   */
  async obtain(config: DomainConfig, ca: string | undefined, client: PeerClient | undefined, sharedDomain: DomainFiles | undefined): Promise<TlsCredentials> {
    this.current ??= await this.cached();
    const hosts = this.hosts(config);
    if (client && ca && (!this.current || needsRenewal(this.current.cert, ca, this.identity, hosts))) {
      try {
        return await this.renew(client, hosts, ca);
      } catch (error) {
        this.log.warn('MS-0044', `could not get a certificate from the MASTER at ${client.where}: ${(error as Error).message}`);
      }
    }
    if (this.current) return this.current;
    const localCa = sharedDomain && (await readDomainCa(sharedDomain));
    const keys = newKeyPair();
    const request = { identity: this.identity, commonName: this.server, hosts, publicKey: keys.publicKey };
    if (localCa) {
      this.current = await this.keep({ key: keys.privateKey, cert: await issueCertificate(localCa, request) });
      this.log.info('MS-0043', `issued this server a certificate from the domain CA in ${sharedDomain!.securityDir} (the MASTER is unreachable)`);
      return this.current;
    }
    this.log.warn('MS-0044', `${this.server} has no certificate from the domain CA and the MASTER is unreachable: its management port presents a provisional one, which clients refuse until the MASTER is back`);
    // Not kept: the next start tries the MASTER again.
    return { key: keys.privateKey, cert: await provisionalCertificate({ ...request, privateKey: keys.privateKey }) };
  }

  /** The credentials this server holds now (its cache's, before any renewal), if any. */
  async held(): Promise<TlsCredentials | undefined> {
    this.current ??= await this.cached();
    return this.current;
  }

  /** At re-attach: a new certificate when this one nears its end or names other hosts; undefined when it is fine. */
  async renewIfNeeded(config: DomainConfig, ca: string, client: PeerClient): Promise<TlsCredentials | undefined> {
    const hosts = this.hosts(config);
    if (this.current && !needsRenewal(this.current.cert, ca, this.identity, hosts)) return undefined;
    return this.renew(client, hosts, ca);
  }

  private async renew(client: PeerClient, hosts: string[], ca: string): Promise<TlsCredentials> {
    const keys = newKeyPair();
    const answer = parseMessage(CertificateAnswerSchema, await client.request('POST', CERTIFICATE_PATH, { body: { publicKey: keys.publicKey, hosts } }), `the certificate from the MASTER at ${client.where}`);
    if (needsRenewal(answer.certificate, ca, this.identity, [])) {
      throw new IntegrityError(`the MASTER at ${client.where} answered a certificate that is not from the domain CA for ${this.identity}`);
    }
    this.current = await this.keep({ key: keys.privateKey, cert: answer.certificate });
    this.log.info('MS-0043', `${this.server} got a new certificate from the domain CA through the MASTER at ${client.where}`);
    return this.current;
  }

  private async keep(credentials: TlsCredentials): Promise<TlsCredentials> {
    await this.cache.writeFile(KEY_FILE, credentials.key, 0o600);
    await this.cache.writeFile(CERTIFICATE_FILE, credentials.cert);
    return credentials;
  }

  private async cached(): Promise<TlsCredentials | undefined> {
    try {
      const [key, cert] = await Promise.all([readFile(this.cache.path(KEY_FILE), 'utf8'), readFile(this.cache.path(CERTIFICATE_FILE), 'utf8')]);
      return { key, cert };
    } catch {
      return undefined;
    }
  }
}
