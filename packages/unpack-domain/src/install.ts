import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  FlotillaError,
  UsageError,
  runningPid,
  domainFiles,
  domainLayout,
  domainsDir,
  loadDomainConfig,
  storageError,
  syncDirectory,
  writeDomainConfig,
  type DomainConfig,
  type DomainLayout,
  type ProgressCounts,
} from '@flotilla/core';
import { extractBackup } from './extract.js';
import { leftoverName, removeLeftovers } from './leftovers.js';
import { linkTree } from './link-tree.js';
import { applyMasterChanges, type MasterChanges } from './master-changes.js';
import { unpackMessages } from './messages.js';
import type { OpenedBackup } from './open-backup.js';

/** What to do when the domain already exists: refuse, lay the backup over it, or replace it whole. */
export type ExistingDomain = 'refuse' | 'overwrite' | 'delete';

export interface InstallOptions {
  home: string;
  existing: ExistingDomain;
  changes: MasterChanges;
  onProgress?: (counts: ProgressCounts) => void;
}

export interface InstallResult {
  layout: DomainLayout;
  /** The installed configuration, as `master config` loads it. */
  config: DomainConfig;
  /** Whether the MASTER's settings differ from the archive's. */
  changed: boolean;
  /** Whether a domain stood there before. */
  replaced: boolean;
}

/** `name (pid N)` for every server of the domain whose pid file names a live process. */
async function runningServers(serversDir: string): Promise<string[]> {
  const names = await readdir(serversDir).catch(() => [] as string[]);
  const running: string[] = [];
  for (const name of names.sort()) {
    const pid = await runningPid(join(serversDir, name, 'server.pid'));
    if (pid !== undefined) running.push(`${name} (pid ${pid})`);
  }
  return running;
}

/**
 * Installs an opened backup as `<home>/domains/<domain>`. The domain is built completely in a
 * staging directory beside the target (the backup's files, the new MASTER settings, the directories
 * a domain has), fsynced and loaded once as `master config` would, and only then renamed into
 * place. An existing domain is first renamed aside and removed after the new one is in: at every
 * instant the target is the old domain, the new one, or (between two renames) absent with both
 * complete beside it, which the next run puts back (see removeLeftovers).
 */
export async function installBackup(backup: OpenedBackup, options: InstallOptions): Promise<InstallResult> {
  const layout = domainLayout(options.home, backup.domain);
  const parent = domainsDir(options.home);
  await mkdir(parent, { recursive: true });
  await removeLeftovers(parent);
  const existed = await isDirectory(layout.dir);
  if (existed && options.existing === 'refuse') throw new UsageError(unpackMessages.domainExists(backup.domain, layout.dir));
  if (existed) {
    // Replacing the files of servers that run would pull them from under their feet.
    const running = await runningServers(layout.serversDir);
    if (running.length) throw new FlotillaError(unpackMessages.domainRunning(backup.domain, running));
  }

  const rewritten = applyMasterChanges(backup.configText, backup.config, options.changes, `${backup.archive}:config/domain.json5`);
  const staging = join(parent, leftoverName('unpack', backup.domain));
  await mkdir(staging, { mode: 0o700 });
  try {
    if (existed && options.existing === 'overwrite') await linkTree(layout.dir, staging);
    await extractBackup(backup, staging, { onProgress: options.onProgress });
    const staged = { ...layout, ...domainFiles(staging) };
    // The packed file goes to .history, as any replaced configuration does.
    if (rewritten.changed) await writeDomainConfig(staged, rewritten.text);
    for (const dir of [staged.historyDir, staged.appsDir, staged.serversDir]) await mkdir(dir, { recursive: true });
    const config = await loadDomainConfig(staged.configFile, backup.domain);
    for (const dir of [staged.configDir, staging]) await syncDirectory(dir);

    if (existed) await swapIn(staging, layout.dir, parent, backup.domain);
    else {
      if (await isDirectory(layout.dir)) throw new UsageError(unpackMessages.domainExists(backup.domain, layout.dir));
      await rename(staging, layout.dir);
      await syncDirectory(parent);
    }
    return { layout, config, changed: rewritten.changed, replaced: existed };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    // Extraction writes through open files and into staging, removed just now: the domains directory is where.
    throw storageError(error, parent) ?? error;
  }
}

async function swapIn(staging: string, target: string, parent: string, domain: string): Promise<void> {
  const aside = join(parent, leftoverName('replaced', domain));
  await rename(target, aside);
  try {
    await rename(staging, target);
  } catch (error) {
    await rename(aside, target);
    throw error;
  }
  await syncDirectory(parent);
  await rm(aside, { recursive: true, force: true });
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((info) => info.isDirectory(), () => false);
}
