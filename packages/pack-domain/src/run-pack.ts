import { rm, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  TerminalProgress,
  UsageError,
  commandContext,
  describeProgress,
  messages,
  openDomain,
  type BackupResult,
  type Domain,
} from '@flotilla/core';
import { AGE_EXTENSION, checkRecipients } from '@flotilla/unpack-domain';
import { encryptBackup } from './encrypt-backup.js';
import type { PackOptions } from './command.js';
import { packMessages } from './messages.js';
import { packDomain } from './pack.js';
import { backupResult } from './result.js';
import { tempPathFor } from './temp-files.js';
import { packThroughMaster } from './through-master.js';
import type { WrittenBackup } from './write-backup.js';

/** Packs a domain: through its MASTER when one answers, from the files on disk otherwise. */
export async function runPack(options: PackOptions): Promise<void> {
  const context = commandContext(options);
  // A domain whose configuration does not load is refused here (exit 2): a backup must restore.
  const domain = await openDomain(context.home, options.domain);
  const recipients = options.recipient ?? [];
  await checkRecipients(recipients, '--recipient');
  const target = options.file ? resolve(options.file) : `${domain.layout.packedZip}${recipients.length ? AGE_EXTENSION : ''}`;
  await checkTarget(target);

  const result = recipients.length ? await packEncrypted(domain, target, recipients) : await packPlain(domain, target);
  context.result(result, messages.packCompleted(options.domain, result.path));
}

async function packPlain(domain: Domain, target: string): Promise<BackupResult> {
  return (await packOnline(domain, target)) ?? backupResult(await packOffline(domain, target));
}

/**
 * The plain archive is written and verified as always, beside the target under a leftover name,
 * then encrypted over the target (encryptBackup); the plain one is removed whatever happens.
 */
async function packEncrypted(domain: Domain, target: string, recipients: string[]): Promise<BackupResult> {
  const plain = tempPathFor(target);
  try {
    const result = await packPlain(domain, plain);
    const progress = TerminalProgress.forStderr();
    progress?.update(packMessages.encrypting(domain.config.name, recipients.length));
    const encrypted = await encryptBackup(plain, target, recipients).finally(() => progress?.done());
    return { ...result, path: target, ...encrypted };
  } finally {
    await rm(plain, { force: true });
  }
}

/** The MASTER does the work and answers at the end: the terminal line says what is being waited for. */
async function packOnline(domain: Domain, target: string): Promise<BackupResult | undefined> {
  const progress = TerminalProgress.forStderr();
  progress?.update(packMessages.packingThroughMaster(domain.config.name));
  return packThroughMaster(domain, target).finally(() => progress?.done());
}

/** Packs from the files on disk, when no MASTER of this home answers; a file changed meanwhile makes it try again. */
async function packOffline(domain: Domain, target: string): Promise<WrittenBackup> {
  const progress = TerminalProgress.forStderr();
  return packDomain(domain, {
    target,
    onProgress: (counts) => progress?.update(describeProgress(`Packing ${domain.config.name}`, counts)),
  }).finally(() => progress?.done());
}

async function checkTarget(target: string): Promise<void> {
  if ((await stat(target).catch(() => undefined))?.isDirectory()) throw new UsageError(packMessages.targetIsDirectory(target));
  if (!(await stat(dirname(target)).catch(() => undefined))?.isDirectory()) throw new UsageError(packMessages.targetDirMissing(dirname(target)));
}
