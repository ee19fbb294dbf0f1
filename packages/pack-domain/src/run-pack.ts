import { rm, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { commandContext, wantsRemoteMaster } from '@flotilla/core/cli';
import {
  TerminalProgress,
  UnreachableError,
  UsageError,
  domainLayout,
  describeProgress,
  messages,
  openDomain,
  type BackupResult,
  type Domain,
} from '@flotilla/core/backup';
import { AGE_EXTENSION } from '@flotilla/unpack-domain/verification';
import { sealBackup } from './encrypt-backup.js';
import type { EncryptedFile, EncryptionThread } from './encryption-thread.js';
import { receiveFromMaster } from './from-master.js';
import type { PackOptions } from './command.js';
import { packMessages } from './messages.js';
import { packDomain } from './pack.js';
import { backupResult } from './result.js';
import { tempPathFor } from './temp-files.js';
import { packThroughMaster } from './through-master.js';
import type { WriteOptions, WrittenBackup } from './write-backup.js';

type WhileVerifying = WriteOptions['whileVerifying'];

/**
 * Packs a domain: through its MASTER when one answers, from the files on disk otherwise.
 * `encryption` is the thread command.ts started for --recipient; it is closed here.
 */
export async function runPack(options: PackOptions, encryption?: EncryptionThread): Promise<void> {
  try {
    await (wantsRemoteMaster(options) ? runRemotePack(options, encryption) : runLocalPack(options, encryption));
  } finally {
    await encryption?.close();
  }
}

async function runLocalPack(options: PackOptions, encryption: EncryptionThread | undefined): Promise<void> {
  const context = commandContext(options);
  // A domain whose configuration does not load is refused here (exit 2): a backup must restore.
  const domain = await openDomain(context.home, options.domain);
  await encryption?.check('--recipient');
  const target = options.file ? resolve(options.file) : `${domain.layout.packedZip}${encryption ? AGE_EXTENSION : ''}`;
  await checkTarget(target);

  const result = encryption ? await packEncrypted(domain, target, encryption) : await packPlain(domain, target);
  context.result(result, messages.packCompleted(options.domain, result.path));
}

/**
 * From a machine without the domain (--master): the MASTER packs one generation and sends it here
 * (from-master.ts); with --recipient it is encrypted here, as a local backup is.
 */
async function runRemotePack(options: PackOptions, encryption: EncryptionThread | undefined): Promise<void> {
  const context = commandContext(options);
  await encryption?.check('--recipient');
  const target = options.file ? resolve(options.file) : `${domainLayout(context.home, options.domain).packedZip}${encryption ? AGE_EXTENSION : ''}`;
  await checkTarget(target);
  // The network client loads only here: a pack on the domain's own machine does without it.
  const { FirstContactUnreachableError, PeerUnreachableError, reachMaster } = await import('@flotilla/core');
  const { client } = await reachMaster(context.home, options.domain, options).catch((error: unknown) => {
    throw error instanceof FirstContactUnreachableError ? new UnreachableError(packMessages.remoteNotReached(options.domain, `${error.peer.address}:${error.peer.port}`), { cause: error }) : error;
  });
  try {
    const receive = async (into: string) => {
      const progress = waitingLine((seconds) => packMessages.packingThroughMaster(options.domain, seconds));
      return receiveFromMaster(client, into).finally(() => progress?.done());
    };
    const result = encryption ? await encrypted(options.domain, target, encryption, receive) : await receive(target);
    context.result(result, messages.packCompleted(options.domain, result.path));
  } catch (error) {
    if (error instanceof PeerUnreachableError) throw new UnreachableError(packMessages.remoteNotReached(options.domain, client.where), { cause: error });
    throw error;
  } finally {
    client.close();
  }
}

async function packPlain(domain: Domain, target: string, whileVerifying?: WhileVerifying): Promise<BackupResult> {
  return (await packOnline(domain, target)) ?? backupResult(await packOffline(domain, target, whileVerifying));
}

async function packEncrypted(domain: Domain, target: string, encryption: EncryptionThread): Promise<BackupResult> {
  return encrypted(domain.config.name, target, encryption, (plain, whileVerifying) => packPlain(domain, plain, whileVerifying));
}

/**
 * The plain archive is written and verified as always, beside the target under a leftover name,
 * and encrypted over the target (sealBackup); the plain one is removed whatever happens. A pack
 * from the files here encrypts the archive while it is verified (whileVerifying), on the
 * encryption thread; one the MASTER wrote or sent is encrypted once it is verified.
 */
async function encrypted(
  domain: string,
  target: string,
  encryption: EncryptionThread,
  packPlainInto: (plain: string, whileVerifying: WhileVerifying) => Promise<BackupResult>,
): Promise<BackupResult> {
  const plain = tempPathFor(target);
  try {
    let result: BackupResult | undefined;
    const written = await sealBackup(target, async (sealed) => {
      let sealing: Promise<EncryptedFile> | undefined;
      result = await packPlainInto(plain, (archive) => (sealing = encryption.encrypt(archive, sealed)));
      const progress = TerminalProgress.forStderr();
      progress?.update(packMessages.encrypting(domain, encryption.recipients.length));
      return (sealing ?? encryption.encrypt(plain, sealed)).finally(() => progress?.done());
    });
    return { ...result!, path: target, ...written };
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
async function packOffline(domain: Domain, target: string, whileVerifying: WhileVerifying): Promise<WrittenBackup> {
  const name = domain.config.name;
  const progress = TerminalProgress.forStderr();
  progress?.update(packMessages.listing(name));
  return packDomain(domain, {
    target,
    whileVerifying,
    collectBetweenPhases: true,
    onProgress: (counts, phase) => progress?.update(describeProgress(phase === 'packing' ? packMessages.packing(name) : packMessages.verifying(name), counts)),
  }).finally(() => progress?.done());
}

async function checkTarget(target: string): Promise<void> {
  if ((await stat(target).catch(() => undefined))?.isDirectory()) throw new UsageError(packMessages.targetIsDirectory(target));
  if (!(await stat(dirname(target)).catch(() => undefined))?.isDirectory()) throw new UsageError(packMessages.targetDirMissing(dirname(target)));
}
