import { isIP } from 'node:net';
import {
  UsageError,
  hostsFor,
  issueCertificate,
  serverIdentity,
  type CertificateAuthority,
  type CertificateAnswer,
  type DomainConfig,
} from '@flotilla/core';

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*$/;

/**
 * `POST /v2/certificate`: a server of the domain, authenticated by its signed request, gets a
 * certificate for its own identity (the sender's, never one it names) and for the names it is
 * reached by: those of the configuration, plus the addresses of its machine it lists.
 */
export async function issueServerCertificate(
  ca: CertificateAuthority,
  config: DomainConfig,
  domain: string,
  sender: string,
  request: { publicKey: string; hosts: string[] },
): Promise<CertificateAnswer> {
  const settings = config.servers[sender];
  if (!settings) throw new UsageError(`only a server of domain ${domain} gets a certificate, and ${JSON.stringify(sender)} is none`);
  const bad = request.hosts.find((host) => !isIP(host) && !HOST_NAME.test(host));
  if (bad !== undefined) throw new UsageError(`${JSON.stringify(bad.slice(0, 100))} is neither an IP address nor a host name`);
  const hosts = [...new Set([...hostsFor(settings.address, config.nodes[settings.node]?.host, false), ...request.hosts])];
  const certificate = await issueCertificate(ca, { identity: serverIdentity(domain, sender), commonName: sender, hosts, publicKey: request.publicKey });
  return { certificate, ca: ca.certificate };
}
