import { readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { FlotillaError, type Domain } from '@flotilla/core';
import type { ProgressCounts } from '@flotilla/unpack-domain';
import { collectDomainFiles, type BackupEntry } from './collect.js';
import { FileChangedError } from './content-check.js';
import { packMessages } from './messages.js';
import { writeBackup, type WrittenBackup } from './write-backup.js';

export interface PackOptions {
  /** Default: `<home>/domains/<domain>_packed.zip`. */
  target?: string;
  onProgress?: (phase: 'hashing' | 'writing', counts: ProgressCounts) => void;
}

const TOOL = {
  name: 'pack-domain',
  version: (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version,
};

/** Without these a restore would not be a working domain. */
const ESSENTIAL = ['config/domain.json5', 'config/security/domain.key'];

/**
 * Backs up a domain from its directory (the MASTER running or not; offline, the generation is not
 * known). A file that changes while it is packed fails the attempt, which is made once more from a
 * fresh listing: an edit or deploy in progress is usually over by then, while a file that never
 * stops changing must not keep the pack busy forever. The second failure is reported.
 */
export async function packDomain(domain: Domain, options: PackOptions = {}): Promise<WrittenBackup> {
  const target = options.target ?? domain.layout.packedZip;
  const exclude = insideDomain(domain.layout.dir, [resolve(domain.layout.dir, domain.config.backup.dir), target]);
  for (let attempt = 1; ; attempt++) {
    const entries = await collectDomainFiles(domain.layout.dir, {
      exclude,
      onProgress: (counts) => options.onProgress?.('hashing', counts),
    });
    requireEssentials(domain.config.name, entries);
    try {
      return await writeBackup(entries, { domain: domain.config.name, generation: null, tool: TOOL }, target, {
        onProgress: (counts) => options.onProgress?.('writing', counts),
      });
    } catch (error) {
      if (!(error instanceof FileChangedError)) throw error;
      if (attempt === 2) throw new FlotillaError(packMessages.keptChanging(domain.config.name, error.message), undefined, { cause: error });
    }
  }
}

/** The domain-relative, `/`-separated form of those paths that lie inside the domain. */
function insideDomain(domainDir: string, paths: string[]): string[] {
  return paths
    .map((path) => relative(domainDir, path))
    .filter((path) => path !== '' && !path.startsWith('..') && !isAbsolute(path))
    .map((path) => path.split(sep).join('/'));
}

function requireEssentials(domain: string, entries: BackupEntry[]): void {
  for (const path of ESSENTIAL) {
    if (!entries.some((entry) => entry.path === path)) throw new FlotillaError(packMessages.missingEssential(domain, path));
  }
}
