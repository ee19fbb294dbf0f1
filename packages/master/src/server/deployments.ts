import { randomBytes } from 'node:crypto';
import { lstat, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { GENERATION_CONFIG_FILE, UsageError, applicationEntry, syncDirectory, type DomainLayout, type MasterConfigChange } from '@flotilla/core';
import { STAGING_PREFIX } from '../deploy/stage.js';

/** Where a replaced or undeployed version waits to be removed: a transient name, in no generation. */
const RETIRED_PREFIX = '.retired-';

/** A staged application, by name: only the staging directories `master deploy` makes are accepted. */
const STAGING_NAME = new RegExp(`^${STAGING_PREFIX.replace('.', '\\.')}[A-Za-z0-9_.-]+\\.tmp$`);

async function moveAside(layout: DomainLayout, name: string): Promise<string | undefined> {
  const current = join(layout.appsDir, name);
  if (!(await lstat(current).then(() => true, () => false))) return undefined;
  const retired = join(layout.appsDir, `${RETIRED_PREFIX}${name}-${randomBytes(6).toString('hex')}.tmp`);
  await rename(current, retired);
  return retired;
}

/** Checks a staged application before anything else changes. */
export async function checkStaged(layout: DomainLayout, staging: string): Promise<string> {
  if (!STAGING_NAME.test(staging)) throw new UsageError(`"${staging}" is not a staging directory made by master deploy`);
  const dir = join(layout.appsDir, staging);
  if (!(await lstat(dir).then((info) => info.isDirectory(), () => false))) throw new UsageError(`staged application ${dir} is missing`);
  if (!(await applicationEntry(dir))) throw new UsageError(`staged application ${dir} has no entry point (package.json "main" or index.js)`);
  return dir;
}

/**
 * Puts a staged application in place as `apps/<name>` with renames (the old version moved aside
 * first), so the repository never holds half an application. Returns the old version's directory,
 * for removeRetired once the new generation is out: removing thousands of files is no part of
 * what servers wait for.
 */
export async function installApplication(layout: DomainLayout, name: string, stagedDir: string): Promise<string | undefined> {
  const retired = await moveAside(layout, name);
  await rename(stagedDir, join(layout.appsDir, name));
  await syncDirectory(layout.appsDir);
  return retired;
}

/** Moves an undeployed application out of apps/; returns its directory, for removeRetired. */
export function removeApplication(layout: DomainLayout, name: string): Promise<string | undefined> {
  return moveAside(layout, name);
}

/** Removes a version moved aside (undefined: there was none). */
export async function removeRetired(retired: string | undefined): Promise<void> {
  if (retired) await rm(retired, { recursive: true, force: true });
}

/** Versions a killed MASTER had moved aside but not yet removed: removed at its next start. */
export async function clearRetired(layout: DomainLayout): Promise<void> {
  const names = await readdir(layout.appsDir).catch(() => [] as string[]);
  await Promise.all(names.filter((name) => name.startsWith(RETIRED_PREFIX)).map((name) => rm(join(layout.appsDir, name), { recursive: true, force: true })));
}

/** A refused deploy leaves nothing behind. */
export async function discardStaged(layout: DomainLayout, staging: string): Promise<void> {
  if (STAGING_NAME.test(staging)) await rm(join(layout.appsDir, staging), { recursive: true, force: true });
}

/**
 * What of a generation (its configuration file and apps/) a change writes: the configuration, and a
 * deploy's or undeploy's application directory. Nothing else there changes with it.
 */
export function touchedBy(change: MasterConfigChange): string[] {
  return change.op === 'deploy' || change.op === 'undeploy' ? [GENERATION_CONFIG_FILE, `apps/${change.name}`] : [GENERATION_CONFIG_FILE];
}
