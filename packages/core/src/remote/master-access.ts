import { stat } from 'node:fs/promises';
import { KEY_FILE_ENV, remoteTarget, type MasterOptions } from '../cli/master-options.js';
import { UsageError } from '../errors.js';
import { openDomain, assertName, type Domain } from '../domain.js';
import { readDomainKey } from '../domain-key.js';
import { masterEndpoint } from '../config/endpoints.js';
import { PeerClient } from '../protocol/http-client.js';
import { PeerUnreachableError } from '../protocol/peer-errors.js';
import type { MasterAddress } from '../protocol/sync.js';
import { FIRST_CONTACT_TIMEOUT_MS, learnDomainCa } from '../tls/first-contact.js';
import { CLI_SENDER, masterCredentialsFromHome } from '../tls/home-credentials.js';
import { masterIdentity } from '../tls/identity.js';

/**
 * The one place that decides which MASTER a command talks to, and with which key (docs/operations.md,
 * "Operating from another machine"): the MASTER named by `--master HOST:PORT` (or FLOTILLA_MASTER)
 * with the key of `--key-file` (or FLOTILLA_KEY_FILE), verified at a first contact; else the MASTER
 * of the domain in this home, with the domain's own key and CA.
 */

/** `HOST:PORT` (an IPv6 address in brackets) as `--master` takes it. */
export function parseMasterOption(text: string): MasterAddress {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text.trim());
  const port = Number(match?.[2]);
  if (!match || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`--master ${text}: expected HOST:PORT, for example 10.0.0.5:9736`);
  }
  return { address: match[1]!, port };
}

/** Reads the key `--key-file` names; a file that is not there is a usage error (exit 2) naming it. */
export async function readKeyFileOption(path: string): Promise<Buffer> {
  if (!(await stat(path).then((found) => found.isFile(), () => false))) {
    throw new UsageError(`--key-file ${path} is not a readable file: give the path of a copy of the MASTER's config/security/domain.key`);
  }
  return readDomainKey(path);
}

/** The MASTER `--master` names did not answer its first contact: says where it was looked for. */
export class FirstContactUnreachableError extends PeerUnreachableError {
  constructor(
    readonly peer: MasterAddress,
    cause: PeerUnreachableError,
  ) {
    super(cause.message, { cause });
  }
}

/** A verified client for the MASTER, and the domain's files when this machine has them. */
export interface MasterAccess {
  domain: string;
  client: PeerClient;
  /** The domain in this home; undefined when the command runs from another machine (--master). */
  local: Domain | undefined;
}

/**
 * Finds the MASTER of `domain` and makes a client for it. From another machine, the MASTER's CA is
 * learned at a verified first contact (tls/first-contact.ts): nothing is sent to a MASTER that has
 * not proved it holds the key. Errors: exit 2 (options, key file, no such domain here), 3 (the
 * MASTER does not answer), 4 (it is not that domain's MASTER, or the key is not that domain's).
 */
export async function reachMaster(home: string, domain: string, options: MasterOptions, env: NodeJS.ProcessEnv = process.env): Promise<MasterAccess> {
  const remote = remoteTarget(options, env);
  if (!remote) {
    const local = await openDomain(home, domain);
    return { domain, local, client: new PeerClient(masterEndpoint(local.config), await masterCredentialsFromHome(local.layout)) };
  }
  assertName('domain', domain);
  const peer = parseMasterOption(remote.master);
  if (remote.keyFile === undefined) {
    throw new UsageError(`--master ${remote.master} needs --key-file FILE (or $${KEY_FILE_ENV}): a copy of the domain's config/security/domain.key`);
  }
  const key = await readKeyFileOption(remote.keyFile);
  const ca = await learnDomainCa(peer, key, domain, FIRST_CONTACT_TIMEOUT_MS).catch((error: unknown) => {
    throw error instanceof PeerUnreachableError ? new FirstContactUnreachableError(peer, error) : error;
  });
  return { domain, local: undefined, client: new PeerClient(peer, { key, sender: CLI_SENDER, trust: { ca, identity: masterIdentity(domain) } }) };
}
