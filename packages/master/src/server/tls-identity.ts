import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  hostsFor,
  issueCertificate,
  masterIdentity,
  newKeyPair,
  UsageError,
  openDomainCa,
  pairProblem,
  type CertificateAuthority,
  type DomainConfig,
  type DomainLayout,
  type Logger,
  type TlsCredentials,
} from '@flotilla/core';

/** What the MASTER presents and signs with on its management port (SPEC section 10). */
export interface MasterTls {
  ca: CertificateAuthority;
  credentials: TlsCredentials;
  /** The operator's own certificate for browsers (master.consoleCertificate), if set. */
  browser?: TlsCredentials;
  /** The MASTER's certificate (DER), which the first-contact proof names. */
  leaf: Buffer;
}

/**
 * Opens the domain's CA (creating it for a domain that predates it) and issues the MASTER a fresh
 * certificate for the addresses it listens on now: a restored MASTER on another address or machine
 * (unpack-domain) presents the right names at once, with nothing to renew by hand.
 */
export async function masterTls(layout: DomainLayout, config: DomainConfig, log: Logger): Promise<MasterTls> {
  const ca = await openDomainCa(layout, layout.name);
  if (ca.created) log.info('MA-0044', `created the domain's certificate authority ${layout.caCertFile} (this domain predates it); servers learn it at their next contact`);
  const { master } = config;
  const keys = newKeyPair();
  const cert = await issueCertificate(ca, {
    identity: masterIdentity(layout.name),
    commonName: master.name,
    hosts: hostsFor(master.address, config.nodes[master.node]?.host),
    publicKey: keys.publicKey,
  });
  const browser = config.master.consoleCertificate && (await operatorCertificate(layout, config.master.consoleCertificate));
  // The CA rides along in the chain: a browser told to trust it by its key (Chromium's
  // --ignore-certificate-errors-spki-list) finds it there; other clients ignore it.
  return { ca, credentials: { key: keys.privateKey, cert: `${cert.trimEnd()}\n${ca.certificate.trimEnd()}\n` }, leaf: new X509Certificate(cert).raw, ...(browser && { browser }) };
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
