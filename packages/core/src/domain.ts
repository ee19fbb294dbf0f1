import { readdir, stat } from 'node:fs/promises';
import { UsageError } from './errors.js';
import { domainLayout, domainsDir, type DomainLayout } from './layout.js';
import { loadDomainConfig } from './config/load.js';
import { NAME_RULE, isValidName } from './config/names.js';
import type { DomainConfig } from './config/schema.js';
import { messages } from './messages.js';

export function assertName(what: string, name: string): void {
  if (!isValidName(name)) throw new UsageError(messages.invalidName(what, name, NAME_RULE));
}

/** The domains present in a home, for messages that help the user find the one they meant. */
export async function listDomains(home: string): Promise<string[]> {
  try {
    const entries = await readdir(domainsDir(home), { withFileTypes: true });
    return entries.filter((entry) => entry.isDirectory() && isValidName(entry.name) && !entry.name.startsWith('.')).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

export interface Domain {
  layout: DomainLayout;
  config: DomainConfig;
}

/** Finds a domain in a home and loads its validated configuration, or says clearly why not (exit 2). */
export async function openDomain(home: string, name: string): Promise<Domain> {
  assertName('domain', name);
  const layout = domainLayout(home, name);
  const exists = await stat(layout.dir).then((s) => s.isDirectory(), () => false);
  if (!exists) throw new UsageError(messages.domainMissing(name, domainsDir(home), await listDomains(home)));
  return { layout, config: await loadDomainConfig(layout.configFile, name) };
}
