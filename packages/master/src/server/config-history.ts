import { createHash } from 'node:crypto';
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ConfigError,
  UsageError,
  parseDomainConfig,
  readHistory,
  readHistoryVersion,
  writeDomainConfig,
  type ConfigHistory,
  type DomainConfig,
  type DomainLayout,
} from '@flotilla/core';
import { historyMessages } from '../history-messages.js';

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** `master history`: the versions config/.history/ keeps, oldest first, beside the one in use. */
export async function configHistory(layout: DomainLayout, generation: number): Promise<ConfigHistory> {
  const current = await readFile(layout.configFile, 'utf8');
  const versions = await readHistory(layout);
  return {
    domain: layout.name,
    current: { generation, bytes: Buffer.byteLength(current), sha256: sha256(current) },
    versions: versions.map(({ version, replacedAt, text }) => ({ version, replacedAt, bytes: Buffer.byteLength(text), sha256: sha256(text) })),
  };
}

/**
 * `master rollback`: writes a kept version back as the configuration, the one it replaces going
 * to the history like any change's. Refused, touching nothing, when the version is unknown, would
 * not load today, or names an application whose files an undeploy removed since (the history
 * keeps configurations, not applications).
 */
export async function rollbackConfig(layout: DomainLayout, version: string): Promise<DomainConfig> {
  const text = await readHistoryVersion(layout, version);
  let config: DomainConfig;
  try {
    config = parseDomainConfig(text, { file: `config/.history/${version}.json5`, expectedName: layout.name });
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(historyMessages.invalidVersion(version, error.message));
    throw error;
  }
  for (const name of Object.keys(config.applications)) {
    const present = await lstat(join(layout.appsDir, name)).then((info) => info.isDirectory(), () => false);
    if (!present) {
      throw new UsageError(historyMessages.applicationGone(version, name));
    }
  }
  await writeDomainConfig(layout, text);
  return config;
}
