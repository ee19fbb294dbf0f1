import { X509Certificate } from 'node:crypto';
import {
  hostsFor,
  issueCertificate,
  masterIdentity,
  newKeyPair,
  openDomainCa,
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
  // The CA rides along in the chain: a browser told to trust it by its key (Chromium's
  // --ignore-certificate-errors-spki-list) finds it there; other clients ignore it.
  return { ca, credentials: { key: keys.privateKey, cert: `${cert.trimEnd()}\n${ca.certificate.trimEnd()}\n` }, leaf: new X509Certificate(cert).raw };
}
