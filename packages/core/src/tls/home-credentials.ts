import { readDomainKey } from '../domain-key.js';
import type { DomainLayout } from '../layout.js';
import type { PeerCredentials } from '../protocol/http-client.js';
import { masterIdentity } from './identity.js';
import { requireTrustedCa } from './trusted-ca.js';

/** The sender name of command-line clients in the servers' logs. */
export const CLI_SENDER = 'cli';

/** What a command on the MASTER's machine needs to talk to its MASTER: the key and the CA of the domain's own files. */
export async function masterCredentialsFromHome(layout: DomainLayout, sender = CLI_SENDER): Promise<PeerCredentials> {
  const [key, ca] = await Promise.all([readDomainKey(layout.keyFile), requireTrustedCa(layout.caCertFile, layout.name)]);
  return { key, sender, trust: { ca, identity: masterIdentity(layout.name) } };
}
