import { createPrivateKey, generateKeyPairSync, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname, networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import { writeFileAtomic } from '../atomic-file.js';
import { FlotillaError, UsageError } from '../errors.js';
import type { DomainFiles } from '../layout.js';
import { isWildcardAddress } from '../config/names.js';
import { identitiesIn } from './identity.js';

/**
 * The domain's own certificate authority (docs/security.md). It is created with
 * the domain, or at the first start of a MASTER whose domain predates it; its key stays on the
 * MASTER's machine (and in its backups) and is never sent. It issues the MASTER's certificate at
 * a MASTER start that needs one (master/src/server/tls-identity.ts), and each server's when the server
 * asks through its signed channel.
 *
 * Certificates are built with @peculiar/x509, a maintained X.509 library over Web Crypto. It takes
 * about half a second to load, so it is imported only where a certificate is made, never on the
 * path of a command that only connects.
 */

/** ECDSA P-256: every TLS 1.3 stack has it, and signing is fast enough to issue at every start. */
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
/** The CA outlives any realistic domain; renewing it would mean a new trust anchor everywhere. */
const CA_VALID_DAYS = 20 * 365;
/**
 * A server's certificate: it renews at every start and whenever it re-attaches within RENEW_BEFORE_DAYS
 * of expiry, so a year is only reached by a server that ran a year without its MASTER.
 */
export const LEAF_VALID_DAYS = 397;
export const RENEW_BEFORE_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface KeyPair {
  /** PKCS#8 PEM. */
  privateKey: string;
  /** SPKI PEM. */
  publicKey: string;
}

/** A fresh key pair for a certificate: Node's own generator, no X.509 library needed. */
export function newKeyPair(): KeyPair {
  return generateKeyPairSync('ec', {
    namedCurve: ALGORITHM.namedCurve,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

export interface CertificateAuthority {
  certificate: string;
  privateKey: string;
}

let x509Library: Promise<typeof import('@peculiar/x509')> | undefined;
function x509(): Promise<typeof import('@peculiar/x509')> {
  x509Library ??= (async () => {
    await import('reflect-metadata');
    const library = await import('@peculiar/x509');
    library.cryptoProvider.set(webcrypto as unknown as Parameters<typeof library.cryptoProvider.set>[0]);
    return library;
  })();
  return x509Library;
}

function der(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

function importKey(pem: string, format: 'pkcs8' | 'spki'): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey(format, der(pem), ALGORITHM, true, format === 'pkcs8' ? ['sign'] : ['verify']);
}

function serialNumber(): string {
  // Positive (high bit clear) and unique enough that no two certificates of a CA ever share one.
  const bytes = randomBytes(16);
  bytes[0]! &= 0x7f;
  return bytes.toString('hex');
}

/** Creates the CA of a domain: key first (0600), then the certificate that makes it exist. */
export async function createDomainCa(files: DomainFiles, domain: string): Promise<CertificateAuthority> {
  const library = await x509();
  const keys = newKeyPair();
  const now = Date.now();
  const certificate = await library.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=Flotilla domain ${domain} CA`,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + CA_VALID_DAYS * DAY_MS),
    keys: { privateKey: await importKey(keys.privateKey, 'pkcs8'), publicKey: await importKey(keys.publicKey, 'spki') },
    signingAlgorithm: ALGORITHM,
    extensions: [
      new library.BasicConstraintsExtension(true, 0, true),
      new library.KeyUsagesExtension(library.KeyUsageFlags.keyCertSign | library.KeyUsageFlags.cRLSign, true),
      await library.SubjectKeyIdentifierExtension.create(await importKey(keys.publicKey, 'spki')),
    ],
  });
  const ca = { certificate: certificate.toString('pem'), privateKey: keys.privateKey };
  await writeFileAtomic(files.caKeyFile, ca.privateKey, { mode: 0o600 });
  await writeFileAtomic(files.caCertFile, `${ca.certificate}\n`);
  return ca;
}

/** The domain's CA, created now if the domain predates it (its MASTER's first start since). */
export async function openDomainCa(files: DomainFiles, domain: string): Promise<CertificateAuthority & { created: boolean }> {
  const ca = await readDomainCa(files);
  return ca ? { ...ca, created: false } : { ...(await createDomainCa(files, domain)), created: true };
}

/** The domain's CA from its files, or undefined when the domain has none (yet); a half pair is an error. */
export async function readDomainCa(files: DomainFiles): Promise<CertificateAuthority | undefined> {
  const [certificate, privateKey] = await Promise.all([readOptional(files.caCertFile), readOptional(files.caKeyFile)]);
  if (certificate === undefined && privateKey === undefined) return undefined;
  if (certificate === undefined || privateKey === undefined) {
    const missing = certificate === undefined ? files.caCertFile : files.caKeyFile;
    throw new FlotillaError(`${missing} is missing while its pair is present: restore it from a backup of the domain (unpack-domain), or remove both to create a new CA (every server then needs --key-file again)`);
  }
  checkCaPair(files, certificate, privateKey);
  return { certificate, privateKey };
}

function checkCaPair(files: DomainFiles, certificate: string, privateKey: string): void {
  const problem = pairProblem(certificate, privateKey);
  if (problem) throw new FlotillaError(`${files.caCertFile} and ${files.caKeyFile} are not the domain's CA (${problem}): restore both from the same backup`);
}

/** Why a PEM certificate and a PEM key are not a pair (unreadable, or not each other's), or undefined when they are. */
export function pairProblem(certificate: string, privateKey: string): string | undefined {
  try {
    return new X509Certificate(certificate).checkPrivateKey(createPrivateKey(privateKey)) ? undefined : 'the key is not the certificate\'s';
  } catch (error) {
    return `not a PEM certificate and key: ${(error as Error).message}`;
  }
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FlotillaError(`cannot read ${file}: ${(error as Error).message}`, undefined, { cause: error });
  }
}

export interface CertificateToIssue {
  /** The identity URI (identity.ts) the certificate names. */
  identity: string;
  /** Shown as the subject's CN: the server's name. */
  commonName: string;
  /** Addresses and host names clients such as curl, Prometheus and browsers may dial. */
  hosts: string[];
  /** SPKI PEM of the holder's key. */
  publicKey: string;
}

/** The identity URI first, then each host as an IP address or a DNS name. */
function subjectAltNames(request: CertificateToIssue) {
  return [
    { type: 'url' as const, value: request.identity },
    ...request.hosts.map((host) => ({ type: isIP(host) ? ('ip' as const) : ('dns' as const), value: host })),
  ];
}

/** Issues a server certificate for `request` from the CA. */
export async function issueCertificate(ca: CertificateAuthority, request: CertificateToIssue): Promise<string> {
  const library = await x509();
  let publicKey: webcrypto.CryptoKey;
  try {
    publicKey = await importKey(request.publicKey, 'spki');
  } catch (error) {
    throw new UsageError(`the certificate request for ${request.commonName} holds no P-256 public key: ${(error as Error).message}`, { cause: error });
  }
  const caCertificate = new library.X509Certificate(ca.certificate);
  const now = Date.now();
  const names = subjectAltNames(request);
  const certificate = await library.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${request.commonName}`,
    issuer: caCertificate.subject,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + LEAF_VALID_DAYS * DAY_MS),
    signingKey: await importKey(ca.privateKey, 'pkcs8'),
    publicKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new library.BasicConstraintsExtension(false, undefined, true),
      new library.KeyUsagesExtension(library.KeyUsageFlags.digitalSignature, true),
      new library.ExtendedKeyUsageExtension([library.ExtendedKeyUsage.serverAuth, library.ExtendedKeyUsage.clientAuth], false),
      new library.SubjectAlternativeNameExtension(names, false),
      await library.AuthorityKeyIdentifierExtension.create(caCertificate, false),
    ],
  });
  return certificate.toString('pem');
}

/**
 * A certificate signed by its own key, for a server that has none from the CA and cannot reach the
 * MASTER: its management port still speaks TLS, and no client trusts it until the MASTER issues one.
 */
export async function provisionalCertificate(request: CertificateToIssue & { privateKey: string }): Promise<string> {
  const library = await x509();
  const now = Date.now();
  const names = subjectAltNames(request);
  const certificate = await library.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${request.commonName} (provisional)`,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + LEAF_VALID_DAYS * DAY_MS),
    keys: { privateKey: await importKey(request.privateKey, 'pkcs8'), publicKey: await importKey(request.publicKey, 'spki') },
    signingAlgorithm: ALGORITHM,
    extensions: [new library.BasicConstraintsExtension(false, undefined, true), new library.SubjectAlternativeNameExtension(names, false)],
  });
  return certificate.toString('pem');
}

/**
 * The names a listener is reached by: its address (or, on a wildcard address, every address of
 * this machine), its node's host, and the loopback names, so `curl --cacert ca.crt` works by any
 * of them.
 */
export function hostsFor(listenAddress: string, nodeHost: string | undefined, local = isWildcardAddress(listenAddress)): string[] {
  const hosts = new Set<string>(['127.0.0.1', '::1', 'localhost']);
  if (!isWildcardAddress(listenAddress)) hosts.add(listenAddress);
  if (nodeHost) hosts.add(nodeHost);
  if (local) {
    hosts.add(hostname());
    for (const addresses of Object.values(networkInterfaces())) for (const { address } of addresses ?? []) hosts.add(address.replace(/%.*$/, ''));
  }
  return [...hosts];
}

/** Whether a certificate should be replaced: another CA, too close to its end, or other names. */
export function needsRenewal(certificatePem: string, caPem: string, identity: string, hosts: string[], now = Date.now()): boolean {
  try {
    const certificate = new X509Certificate(certificatePem);
    const ca = new X509Certificate(caPem);
    if (!certificate.verify(ca.publicKey)) return true;
    if (Date.parse(certificate.validTo) - now < RENEW_BEFORE_DAYS * DAY_MS) return true;
    if (!identitiesIn({ subjectaltname: certificate.subjectAltName }).includes(identity)) return true;
    return hosts.some((host) => (isIP(host) ? certificate.checkIP(host) : certificate.checkHost(host)) === undefined);
  } catch {
    return true;
  }
}
