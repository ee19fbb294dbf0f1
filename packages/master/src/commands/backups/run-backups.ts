import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import {
  FlotillaError,
  IntegrityError,
  TerminalProgress,
  UnreachableError,
  commandContext,
  describeProgress,
  domainsDir,
  formatBytes,
  openDomain,
  renderTable,
  type DomainConfig,
  type DomainLayout,
} from '@flotilla/core';
import { AGE_EXTENSION } from '@flotilla/unpack-domain';
import { bootBackupPattern, bootBackupTime } from '../../server/backup/boot-names.js';
import { bootRecordFile, readBootRecord } from '../../server/backup/boot-record.js';
import { remoteBackupNode, type RemoteNode } from '../../server/backup/node-copy.js';
import { localFacts, type FactOptions, type ListedBackup } from './backup-facts.js';
import type { BackupsOptions } from './command.js';
import { backupsMessages } from './messages.js';
import { fetchNodeBackup, listNodeBackups, type NodeFile } from './node-backups.js';

/** `master backups --json`. */
export interface BackupList {
  domain: string;
  backups: ListedBackup[];
  /** Places that could not be listed (a backup node that did not answer), each with why. */
  unreachable: string[];
}

/**
 * Every backup the domain knows, offline: in the domain's backups/ and the policy's backup.dir on
 * this machine, the boot backups a failed node copy left in `<home>/domains/`, pack-domain's
 * default archives there, and backup.dir on the backup node (through its exec, as boot backups
 * are copied). Exit 4 when a backup fails its checks, 3 when the node could not be listed.
 */
export async function runBackups(options: BackupsOptions): Promise<void> {
  const context = commandContext(options);
  const { layout, config } = await openDomain(context.home, options.domain);
  const progress = TerminalProgress.forStderr();
  const facts: FactOptions = { verify: options.verify, identity: options.identity };
  const unreachable: string[] = [];
  const backups: ListedBackup[] = [];
  try {
    for (const [dir, path] of await localBackupFiles(layout, config)) {
      const file = basename(path);
      const onProgress: FactOptions['onProgress'] = (counts) => progress?.update(describeProgress(`Verifying ${file}`, counts));
      backups.push({ ...(await localFacts(path, file, { ...facts, onProgress })), where: join(dir, file), node: null });
    }
    const remote = remoteBackupNode(config);
    if (remote) backups.push(...(await nodeBackups(layout, config, remote, facts, progress, unreachable)));
  } finally {
    progress?.done();
  }
  backups.sort((a, b) => (a.time ?? '').localeCompare(b.time ?? '') || a.where.localeCompare(b.where));

  const list: BackupList = { domain: layout.name, backups, unreachable };
  context.result(list, () => renderBackups(list, options));
  const bad = backups.filter((backup) => backup.verified === false);
  if (bad.length) throw new IntegrityError(backupsMessages.bad(bad.length, backups.length, layout.name, bad.map((backup) => backup.problem ?? backup.where)));
  if (unreachable.length) throw new UnreachableError(backupsMessages.someUnreachable(unreachable));
}

/** `[directory, file]` of every backup of the domain on this machine, each file once. */
async function localBackupFiles(layout: DomainLayout, config: DomainConfig): Promise<Array<[string, string]>> {
  const packed = basename(layout.packedZip);
  const boot = new RegExp(bootBackupPattern(layout.name));
  // With a backup node, backup.dir names a directory there, not here.
  const policyDir = remoteBackupNode(config) ? [] : [resolve(layout.dir, config.backup.dir)];
  const dirs = [...new Set([layout.backupsDir, ...policyDir, domainsDir(layout.home)])];
  const found: Array<[string, string]> = [];
  for (const dir of dirs) {
    const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [] as string[];
      throw new FlotillaError(backupsMessages.unreadableDir(dir, error.message));
    });
    for (const name of names.sort()) {
      if (boot.test(name) || name === packed || name === `${packed}${AGE_EXTENSION}`) found.push([dir, join(dir, name)]);
    }
  }
  return found;
}

/**
 * The boot backups on the backup node, by name and size; their generation is the boot record's
 * when it names the file. With --verify each is copied here, into a private temporary
 * directory, checked as a local file is, and removed.
 */
async function nodeBackups(
  layout: DomainLayout,
  config: DomainConfig,
  node: RemoteNode,
  facts: FactOptions,
  progress: TerminalProgress | undefined,
  unreachable: string[],
): Promise<ListedBackup[]> {
  const dir = resolve(layout.dir, config.backup.dir);
  let files: NodeFile[];
  try {
    files = await listNodeBackups(node, dir, layout.name);
  } catch (error) {
    if (!(error instanceof FlotillaError)) throw error;
    unreachable.push(backupsMessages.nodeUnreachable(node.name, dir, error.message));
    return [];
  }
  // An unreadable record only costs the generation of the newest copy.
  const record = await readBootRecord(bootRecordFile(layout, config.master.name)).catch(() => undefined);
  const listed: ListedBackup[] = [];
  for (const file of files) {
    const where = `${node.name}:${join(dir, file.name)}`;
    const encrypted = file.name.endsWith(AGE_EXTENSION);
    const recorded = record?.place === 'node' && record.file === file.name ? (record.generation ?? null) : null;
    const base = { file: file.name, where, node: node.name, time: bootBackupTime(file.name)?.toISOString() ?? null, generation: recorded, bytes: file.bytes, encrypted, verified: null };
    if (!facts.verify || (encrypted && facts.identity === undefined)) {
      listed.push(base);
      continue;
    }
    const scratch = await mkdtemp(join(tmpdir(), 'flotilla-backups-'));
    try {
      const copy = join(scratch, file.name);
      await fetchNodeBackup(node, dir, file, copy);
      const onProgress: FactOptions['onProgress'] = (counts) => progress?.update(describeProgress(`Verifying ${where}`, counts));
      const checked = await localFacts(copy, file.name, { ...facts, onProgress });
      listed.push({ ...checked, ...(checked.problem && { problem: checked.problem.replaceAll(copy, where) }), where, node: node.name, bytes: file.bytes });
    } catch (error) {
      if (!(error instanceof FlotillaError) || error instanceof IntegrityError) throw error;
      unreachable.push(backupsMessages.nodeUnreachable(node.name, dir, error.message));
      listed.push(base);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
  return listed;
}

function checkColumn(backup: ListedBackup, options: BackupsOptions): string {
  if (backup.verified === true) return 'sound';
  if (backup.verified === false) return 'BAD';
  if (options.verify && backup.encrypted && options.identity === undefined) return backupsMessages.notVerifiedEncrypted;
  return 'not verified';
}

function renderBackups(list: BackupList, options: BackupsOptions): string {
  if (list.backups.length === 0) return backupsMessages.none(list.domain);
  return renderTable(
    ['time (UTC)', 'generation', 'size', 'encrypted', 'check', 'where'],
    list.backups.map((backup) => [
      backup.time ? backup.time.replace('T', ' ').replace(/(\.\d+)?Z$/, '') : '?',
      backup.generation === null ? '?' : String(backup.generation),
      formatBytes(backup.bytes),
      backup.encrypted ? 'yes' : 'no',
      checkColumn(backup, options),
      backup.where,
    ]),
  );
}
