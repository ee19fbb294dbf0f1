import type { PeerCertificate } from 'node:tls';

/**
 * Who is who on the wire (docs/security.md). Every certificate the domain's CA issues names its
 * holder by a URI in its subjectAltName, and every signed request names its receiver the same way:
 * a client checks that the peer's certificate names the peer it meant to reach, whatever address it
 * dialled, and a server refuses a request signed for anyone else.
 */

/** The MASTER of a domain: there is one, whatever its server name, address or machine. */
export function masterIdentity(domain: string): string {
  return `flotilla://${domain}/master`;
}

/** A managed server of a domain. */
export function serverIdentity(domain: string, server: string): string {
  return `flotilla://${domain}/servers/${server}`;
}

/** The identity URIs a certificate's subjectAltName holds (Node's `URI:…, IP Address:…` text). */
export function identitiesIn(certificate: Pick<PeerCertificate, 'subjectaltname'>): string[] {
  return (certificate.subjectaltname ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('URI:'))
    .map((entry) => entry.slice('URI:'.length));
}

/**
 * A `checkServerIdentity` for clients of the domain: the chain was already verified against the
 * domain's CA; this makes sure the certificate is the one of the peer we meant (a server of the
 * same domain must not pass for the MASTER, nor one server for another).
 */
export function expectIdentity(expected: string): (host: string, certificate: PeerCertificate) => Error | undefined {
  return (_servername, certificate) =>
    identitiesIn(certificate).includes(expected)
      ? undefined
      : Object.assign(new Error(`its certificate names ${identitiesIn(certificate).join(', ') || 'no Flotilla peer'}, not ${expected}`), {
          code: 'ERR_TLS_CERT_ALTNAME_INVALID',
        });
}
