import { rm, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  FirstContactUnreachableError,
  PeerUnreachableError,
  TerminalProgress,
  UnreachableError,
  UsageError,
  domainLayout,
  reachMaster,
  wantsRemoteMaster,
  commandContext,
  describeProgress,
  messages,
  openDomain,
  type BackupResult,
  type Domain,
} from '@flotilla/core';
import { AGE_EXTENSION, checkRecipients } from '@flotilla/unpack-domain';
import { encryptBackup } from './encrypt-backup.js';
import { receiveFromMaster } from './from-master.js';
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
  if (wantsRemoteMaster(options)) return runRemotePack(options);
  // A domain whose configuration does not load is refused here (exit 2): a backup must restore.
  const domain = await openDomain(context.home, options.domain);
  const recipients = await checkedRecipients(options);
  const target = options.file ? resolve(options.file) : `${domain.layout.packedZip}${recipients.length ? AGE_EXTENSION : ''}`;
  await checkTarget(target);

  const result = recipients.length ? await packEncrypted(domain, target, recipients) : await packPlain(domain, target);
  context.result(result, messages.packCompleted(options.domain, result.path));
}

/**
 * From a machine without the domain (--master): the MASTER packs one generation and sends it here
 * (from-master.ts); with --recipient it is encrypted here, as a local backup is.
 */
async function runRemotePack(options: PackOptions): Promise<void> {
  const context = commandContext(options);
  const recipients = await checkedRecipients(options);
  const target = options.file ? resolve(options.file) : `${domainLayout(context.home, options.domain).packedZip}${recipients.length ? AGE_EXTENSION : ''}`;
  await checkTarget(target);
  const { client } = await reachMaster(context.home, options.domain, options).catch((error: unknown) => {
    throw error instanceof FirstContactUnreachableError ? new UnreachableError(packMessages.remoteNotReached(options.domain, `${error.peer.address}:${error.peer.port}`), { cause: error }) : error;
  });
  try {
    const receive = async (into: string) => {
      const progress = waitingLine((seconds) => packMessages.packingThroughMaster(options.domain, seconds));
      return receiveFromMaster(client, into).finally(() => progress?.done());
    };
    const result = recipients.length ? await encrypted(options.domain, target, recipients, receive) : await receive(target);
    context.result(result, messages.packCompleted(options.domain, result.path));
  } catch (error) {
    if (error instanceof PeerUnreachableError) throw new UnreachableError(packMessages.remoteNotReached(options.domain, client.where), { cause: error });
    throw error;
  } finally {
    client.close();
  }
}

async function packPlain(domain: Domain, target: string): Promise<BackupResult> {
  return (await packOnline(domain, target)) ?? backupResult(await packOffline(domain, target));
}

async function packEncrypted(domain: Domain, target: string, recipients: string[]): Promise<BackupResult> {
  return encrypted(domain.config.name, target, recipients, (plain) => packPlain(domain, plain));
}

/**
 * The plain archive is written and verified as always, beside the target under a leftover name,
 * then encrypted over the target (encryptBackup); the plain one is removed whatever happens.
 */
async function encrypted(domain: string, target: string, recipients: string[], packPlainInto: (plain: string) => Promise<BackupResult>): Promise<BackupResult> {
  const plain = tempPathFor(target);
  try {
    const result = await packPlainInto(plain);
    const progress = TerminalProgress.forStderr();
    progress?.update(packMessages.encrypting(domain, recipients.length));
    const encrypted = await encryptBackup(plain, target, recipients).finally(() => progress?.done());
    return { ...result, path: target, ...encrypted };
  } finally {
    await rm(plain, { force: true });
  }
}

/** The MASTER does the work and answers at the end: the terminal line says what is being waited for. */
async function packOnline(domain: Domain, target: string): Promise<BackupResult | undefined> {
  const progress = waitingLine((seconds) => packMessages.packingThroughMaster(domain.config.name, seconds));
  return packThroughMaster(domain, target).finally(() => progress?.done());
}

/** A terminal line for work done elsewhere, whose progress is not known here: what is awaited, and for how long. */
function waitingLine(line: (seconds: number) => string): { done(): void } | undefined {
  const progress = TerminalProgress.forStderr();
  if (!progress) return undefined;
  const started = Date.now();
  const tick = () => progress.update(line(Math.floor((Date.now() - started) / 1000)));
  tick();
  const timer = setInterval(tick, 1000);
  timer.unref();
  return {
    done() {
      clearInterval(timer);
      progress.done();
    },
  };
}

/** Packs from the files on disk, when no MASTER of this home answers; a file changed meanwhile makes it try again. */
async function packOffline(domain: Domain, target: string): Promise<WrittenBackup> {
  const name = domain.config.name;
  const progress = TerminalProgress.forStderr();
  progress?.update(packMessages.listing(name));
  return packDomain(domain, {
    target,
    onProgress: (counts, phase) => progress?.update(describeProgress(phase === 'packing' ? packMessages.packing(name) : packMessages.verifying(name), counts)),
  }).finally(() => progress?.done());
}

/** The --recipient keys, checked before any work starts; the age library loads only when there are some. */
async function checkedRecipients(options: PackOptions): Promise<string[]> {
  const recipients = options.recipient ?? [];
  if (recipients.length) await checkRecipients(recipients, '--recipient');
  return recipients;
}

async function checkTarget(target: string): Promise<void> {
  if ((await stat(target).catch(() => undefined))?.isDirectory()) throw new UsageError(packMessages.targetIsDirectory(target));
  if (!(await stat(dirname(target)).catch(() => undefined))?.isDirectory()) throw new UsageError(packMessages.targetDirMissing(dirname(target)));
}
