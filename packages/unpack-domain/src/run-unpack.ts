import { rm, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import {
  ADDRESS_RULE,
  IntegrityError,
  TerminalProgress,
  UsageError,
  assertName,
  commandContext,
  describeProgress,
  domainLayout,
  domainsDir,
  isValidAddress,
  messages,
  parsePortOption,
  type DomainConfig,
} from '@flotilla/core';
import type { UnpackOptions } from './command.js';
import { checkBackup, decryptedArchive } from './check-backup.js';
import { installBackup, type ExistingDomain } from './install.js';
import type { MasterChanges } from './master-changes.js';
import { unpackMessages } from './messages.js';
import { openBackup } from './open-backup.js';
import { askMasterChanges, terminalQuestioner } from './prompts.js';

/** Restores a domain from a pack-domain archive, asking what the options leave open. */
export async function runUnpack(options: UnpackOptions): Promise<void> {
  const context = commandContext(options);
  if (!options.domain && !options.file) throw new UsageError(unpackMessages.domainOrFile());
  if (options.domain) assertName('domain', options.domain);
  const given = givenChanges(options);
  const archive = options.file ? resolve(options.file) : domainLayout(context.home, options.domain!).packedZip;
  if (!options.file && !(await exists(archive))) throw new UsageError(unpackMessages.noDefaultArchive(options.domain!, archive));

  if (options.verify) {
    await verify(context, archive, options.identity);
    return;
  }
  // An encrypted archive is decrypted beside the home's domains; a refusal there has changed nothing.
  const plain = await decryptedArchive(archive, options.identity, domainsDir(context.home)).catch(nothingChanged);
  try {
    await restore(options, context, archive, plain, given);
  } finally {
    if (plain !== archive) await rm(plain, { force: true });
  }
}

/** `--verify`: every check a restore makes (checkBackup), nothing written. */
async function verify(context: ReturnType<typeof commandContext>, archive: string, identity: string | undefined): Promise<void> {
  const checking = TerminalProgress.forStderr();
  const result = await checkBackup(archive, {
    identity,
    onProgress: (counts) => checking?.update(describeProgress(`Verifying ${basename(archive)}`, counts)),
  })
    .catch(nothingChanged)
    .finally(() => checking?.done());
  context.result(result, unpackMessages.verified(archive, result));
}

async function restore(options: UnpackOptions, context: ReturnType<typeof commandContext>, archive: string, plain: string, given: MasterChanges): Promise<void> {
  const backup = await openBackup(plain).catch(nothingChanged);
  if (options.domain && options.domain !== backup.domain) throw new UsageError(unpackMessages.nameMismatch(archive, backup.domain, options.domain));
  const existing: ExistingDomain = options.overwrite ? 'overwrite' : options.delete ? 'delete' : 'refuse';
  const layout = domainLayout(context.home, backup.domain);
  // Refused before any question: the operator should not answer three questions for nothing.
  if (existing === 'refuse' && (await exists(layout.dir))) throw new UsageError(unpackMessages.domainExists(backup.domain, layout.dir));

  const changes = await decideChanges(backup.config.master, given, options.yes);
  const unpacking = TerminalProgress.forStderr();
  const result = await installBackup(backup, {
    home: context.home,
    existing,
    changes,
    onProgress: (counts) => unpacking?.update(describeProgress(`Unpacking ${backup.domain}`, counts)),
  })
    .catch(nothingChanged)
    .finally(() => unpacking?.done());

  context.result(
    {
      domain: backup.domain,
      dir: result.layout.dir,
      archive,
      files: backup.entries.length,
      bytes: backup.bytes,
      generation: backup.manifest.generation,
      createdAt: backup.manifest.createdAt,
      master: result.config.master,
      replaced: result.replaced ? existing : null,
    },
    messages.unpackCompleted(backup.domain),
  );
}

/** An archive found bad, before or while it is unpacked beside the target, has changed nothing. */
function nothingChanged(error: unknown): never {
  throw error instanceof IntegrityError ? new IntegrityError(unpackMessages.nothingChanged(error.message), { cause: error }) : error;
}

/** The MASTER settings given as options, validated before anything is read. */
function givenChanges(options: UnpackOptions): MasterChanges {
  if (options.address !== undefined && !isValidAddress(options.address)) {
    throw new UsageError(`--address ${options.address}: must be ${ADDRESS_RULE}`);
  }
  if (options.node !== undefined) assertName('node', options.node);
  return {
    address: options.address,
    port: options.port === undefined ? undefined : parsePortOption('--port', options.port),
    node: options.node,
  };
}

/**
 * Options answer their question; `--yes` keeps the archive's value for the rest; without a
 * terminal to ask on, the archive's values are kept too (a script never hangs on a question).
 */
async function decideChanges(current: DomainConfig['master'], given: MasterChanges, yes: boolean): Promise<MasterChanges> {
  const answered = given.address !== undefined && given.port !== undefined && given.node !== undefined;
  if (yes || answered || !process.stdin.isTTY) return given;
  const questioner = terminalQuestioner();
  try {
    return await askMasterChanges(current, given, questioner);
  } finally {
    questioner.close();
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}
