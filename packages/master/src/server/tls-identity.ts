import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  hostsFor,
  issueCertificate,
  masterIdentity,
  needsRenewal,
  newKeyPair,
  UsageError,
  openDomainCa,
  pairProblem,
  serverLayout,
  writeFileAtomic,
  type CertificateAuthority,
  type DomainConfig,
  type DomainLayout,
  type Logger,
  type TlsCredentials,
} from '@flotilla/core';

/** What the MASTER presents and signs with on its management port (docs/security.md). */
export interface MasterTls {
  ca: CertificateAuthority;
  credentials: TlsCredentials;
  /** The operator's own certificate for browsers (master.consoleCertificate), if set. */
  browser?: TlsCredentials;
  /** The MASTER's certificate (DER), which the first-contact proof names. */
  leaf: Buffer;
}

/**
 * Opens the domain's CA (creating it for a domain that predates it) and gives the MASTER a
 * certificate for the addresses it listens on now: the one of its last start when that still
 * names them and is far from its end, else a new one. So a restored MASTER on another address or
 * machine (unpack-domain) presents the right names at once, and an ordinary start loads no X.509
 * library (half a second here) and is back for its servers sooner.
 */
export async function masterTls(layout: DomainLayout, config: DomainConfig, log: Logger): Promise<MasterTls> {
  const ca = await openDomainCa(layout, layout.name);
  if (ca.created) log.info('MA-0044', `created the domain's certificate authority ${layout.caCertFile} (this domain predates it); servers learn it at their next contact`);
  const { master } = config;
  const identity = masterIdentity(layout.name);
  const hosts = hostsFor(master.address, config.nodes[master.node]?.host);
  const files = keptFiles(layout, master.name);
  let own = await readKept(files);
  if (!own || needsRenewal(own.cert, ca.certificate, identity, hosts)) {
    const keys = newKeyPair();
    own = { key: keys.privateKey, cert: await issueCertificate(ca, { identity, commonName: master.name, hosts, publicKey: keys.publicKey }) };
    await writeFileAtomic(files.key, own.key, { mode: 0o600 });
    await writeFileAtomic(files.cert, own.cert);
  }
  const browser = config.master.consoleCertificate && (await operatorCertificate(layout, config.master.consoleCertificate));
  // The CA rides along in the chain: a browser told to trust it by its key (Chromium's
  // --ignore-certificate-errors-spki-list) finds it there; other clients ignore it.
  const chain = `${own.cert.trimEnd()}\n${ca.certificate.trimEnd()}\n`;
  return { ca, credentials: { key: own.key, cert: chain }, leaf: new X509Certificate(own.cert).raw, ...(browser && { browser }) };
}

/** The MASTER's key and certificate, runtime state beside its pid file (never in a backup: reissued at need). */
function keptFiles(layout: DomainLayout, master: string): { key: string; cert: string } {
  const dir = serverLayout(layout, master).dir;
  return { key: join(dir, 'tls.key'), cert: join(dir, 'tls.crt') };
}

async function readKept(files: { key: string; cert: string }): Promise<TlsCredentials | undefined> {
  try {
    const [key, cert] = await Promise.all([readFile(files.key, 'utf8'), readFile(files.cert, 'utf8')]);
    return pairProblem(cert, key) ? undefined : { key, cert };
  } catch {
    return undefined;
  }
}

/** master.consoleCertificate's files, checked now: a MASTER never starts presenting a pair that does not match. */
async function operatorCertificate(layout: DomainLayout, files: { cert: string; key: string }): Promise<TlsCredentials> {
  const [certFile, keyFile] = [resolve(layout.dir, files.cert), resolve(layout.dir, files.key)];
  const read = (file: string) =>
    readFile(file, 'utf8').catch((error: Error) => {
      throw new UsageError(`master.consoleCertificate: cannot read ${file}: ${error.message}`);
    });
  const [cert, key] = await Promise.all([read(certFile), read(keyFile)]);
  const problem = pairProblem(cert, key);
  if (problem) throw new UsageError(`master.consoleCertificate: ${certFile} and ${keyFile} are not a pair (${problem})`);
  return { cert, key };
}
