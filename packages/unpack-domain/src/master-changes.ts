import { ConfigError, UsageError, parseDomainConfig, renderDomainConfig, type DomainConfig } from '@flotilla/core';
import { unpackMessages } from './messages.js';

/** New MASTER settings for a restored domain; an absent field keeps the archive's value. */
export interface MasterChanges {
  address?: string;
  port?: number;
  node?: string;
}

export interface RewrittenConfig {
  text: string;
  config: DomainConfig;
  /** False when every answer kept the archive's value: the text is then the packed file, unchanged. */
  changed: boolean;
}

/**
 * Applies new MASTER settings to a loaded configuration and renders it with the core renderer
 * (every default then written out), validated as `master config` will load it.
 *
 * A new node name that is not yet a node renames the MASTER's node: the machine entry keeps its
 * host and exec, and everything that referred to it (servers on it, the backup node) follows, so
 * the configuration stays whole; servers can be moved afterwards with `master config set`. A name
 * that is already a node moves the MASTER to that node and changes nothing else.
 */
export function applyMasterChanges(original: string, current: DomainConfig, changes: MasterChanges, file: string): RewrittenConfig {
  const address = changes.address ?? current.master.address;
  const port = changes.port ?? current.master.port;
  const node = changes.node ?? current.master.node;
  if (address === current.master.address && port === current.master.port && node === current.master.node) {
    return { text: original, config: current, changed: false };
  }

  const next = structuredClone(current);
  next.master.address = address;
  next.master.port = port;
  const oldNode = current.master.node;
  if (node !== oldNode && !Object.hasOwn(current.nodes, node)) {
    next.nodes = Object.fromEntries(Object.entries(next.nodes).map(([name, settings]) => [name === oldNode ? node : name, settings]));
    for (const server of Object.values(next.servers)) if (server.node === oldNode) server.node = node;
    if (next.backup.node === oldNode) next.backup.node = node;
  }
  next.master.node = node;

  const text = renderDomainConfig(next, `Flotilla domain ${current.name}, restored by unpack-domain on ${new Date().toISOString()}`);
  try {
    return { text, config: parseDomainConfig(text, { file, expectedName: current.name }), changed: true };
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(unpackMessages.invalidChanges(error.message), { cause: error });
    throw error;
  }
}
