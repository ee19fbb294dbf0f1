import { ConfigError, IntegrityError, UsageError, parseDomainConfig, type DomainConfig } from '@flotilla/core';
import { ArchiveReader, contentChunks } from './entry-reader.js';
import { unpackMessages } from './messages.js';
import { inspectBackup, type VerifiedBackup } from './verify.js';

/** The entries without which a backup could not become a working domain. */
const CONFIG_ENTRY = 'config/domain.json5';
const KEY_ENTRY = 'config/security/domain.key';

export interface OpenedBackup extends VerifiedBackup {
  domain: string;
  /** `config/domain.json5` exactly as packed, so an unchanged restore is byte for byte the original. */
  configText: string;
  config: DomainConfig;
}

/**
 * Inspects a backup archive (inspectBackup) and loads the configuration it holds, checked: what a
 * restore needs before it asks any question or touches any directory. The other files' content is
 * checked as the restore writes them, beside the target.
 */
export async function openBackup(archive: string): Promise<OpenedBackup> {
  const verified = await inspectBackup(archive);
  const domain = verified.manifest.domain;
  for (const required of [CONFIG_ENTRY, KEY_ENTRY]) {
    if (!verified.entries.some((entry) => entry.path === required)) {
      throw new IntegrityError(unpackMessages.refused(archive, `it holds no ${required}, so it cannot restore a domain`));
    }
  }
  const configEntry = verified.entries.find((entry) => entry.path === CONFIG_ENTRY)!;
  const configText = (await readWhole(archive, configEntry)).toString('utf8');
  try {
    const config = parseDomainConfig(configText, { file: `${archive}:${CONFIG_ENTRY}`, expectedName: domain });
    return { ...verified, domain, configText, config };
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(unpackMessages.invalidConfig(archive, error.message), { cause: error });
    throw error;
  }
}

async function readWhole(archive: string, entry: VerifiedBackup['entries'][number]): Promise<Buffer> {
  const reader = await ArchiveReader.open(archive);
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of contentChunks(reader.content(entry.record, entry))) chunks.push(chunk);
    return Buffer.concat(chunks);
  } finally {
    await reader.close();
  }
}
