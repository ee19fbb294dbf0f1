import { readFileSync } from 'node:fs';
import { FlotillaError, readGenerationFile, type Domain, type GenerationCounter } from '@flotilla/core/backup';
import { collectDomainFiles, type ListedTree } from './collect.js';
import { FileChangedError } from './content-check.js';
import { backupExclusions } from './exclusions.js';
import { packMessages } from './messages.js';
import { writeBackup, type WriteOptions, type WrittenBackup } from './write-backup.js';

export interface PackOptions extends WriteOptions {
  /** Default: `<home>/domains/<domain>_packed.zip`. */
  target?: string;
}

/** A directory laid out as a domain (config/, apps/), and what the backup's manifest says of it. */
export interface PackSource {
  dir: string;
  domain: string;
  /** The generation the files are believed to be; the manifest names it only if their digest matches. */
  counter: GenerationCounter | undefined;
  /** Domain-relative paths to leave out (backupExclusions). */
  exclude: string[];
  tool: { name: string; version: string };
}

const PACK_TOOL = {
  name: 'pack-domain',
  version: (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version,
};

/** Without these a restore would not be a working domain. */
const ESSENTIAL = ['config/domain.json5', 'config/security/domain.key'];

/**
 * Backs up a domain from its directory, as it is on disk (the MASTER stopped, or not on this
 * machine). A file that changes while it is packed fails the attempt, which is made once more from
 * a fresh listing: an edit or deploy in progress is usually over by then, while a file that never
 * stops changing must not keep the pack busy forever. The second failure is reported.
 */
export async function packDomain(domain: Domain, options: PackOptions = {}): Promise<WrittenBackup> {
  const target = options.target ?? domain.layout.packedZip;
  const exclude = backupExclusions(domain.layout.dir, domain.config.backup.dir, [target]);
  for (let attempt = 1; ; attempt++) {
    const source: PackSource = {
      dir: domain.layout.dir,
      domain: domain.config.name,
      counter: await readGenerationFile(domain.layout.generationFile),
      exclude,
      tool: PACK_TOOL,
    };
    try {
      return await packDirectory(source, target, options);
    } catch (error) {
      if (!(error instanceof FileChangedError)) throw error;
      if (attempt === 2) throw new FlotillaError(packMessages.keptChanging(domain.config.name, error.message), undefined, { cause: error });
    }
  }
}

/**
 * One pass over `source`: list, then write and verify. Enough on its own for a directory nothing
 * writes to, such as the MASTER's snapshot of a generation.
 */
export async function packDirectory(source: PackSource, target: string, options: Omit<PackOptions, 'target'> = {}): Promise<WrittenBackup> {
  const tree = await collectDomainFiles(source.dir, { exclude: source.exclude });
  requireEssentials(source.domain, tree);
  return writeBackup(tree, { domain: source.domain, counter: source.counter, tool: source.tool }, target, options);
}

function requireEssentials(domain: string, tree: ListedTree): void {
  for (const path of ESSENTIAL) {
    if (!tree.files.some((file) => file.path === path)) throw new FlotillaError(packMessages.missingEssential(domain, path));
  }
}
