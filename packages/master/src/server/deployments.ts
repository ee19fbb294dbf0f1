import { randomBytes } from 'node:crypto';
import { lstat, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError, applicationEntry, syncDirectory, type DomainLayout } from '@flotilla/core';
import { STAGING_PREFIX } from '../deploy/stage.js';

/** A staged application, by name: only the staging directories `master deploy` makes are accepted. */
const STAGING_NAME = new RegExp(`^${STAGING_PREFIX.replace('.', '\\.')}[A-Za-z0-9_.-]+\\.tmp$`);

async function moveAside(layout: DomainLayout, name: string): Promise<string | undefined> {
  const current = join(layout.appsDir, name);
  if (!(await lstat(current).then(() => true, () => false))) return undefined;
  const retired = join(layout.appsDir, `.retired-${name}-${randomBytes(6).toString('hex')}.tmp`);
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
 * first, then removed), so the repository never holds half an application.
 */
export async function installApplication(layout: DomainLayout, name: string, stagedDir: string): Promise<void> {
  const retired = await moveAside(layout, name);
  await rename(stagedDir, join(layout.appsDir, name));
  await syncDirectory(layout.appsDir);
  if (retired) await rm(retired, { recursive: true, force: true });
}

export async function removeApplication(layout: DomainLayout, name: string): Promise<void> {
  const retired = await moveAside(layout, name);
  if (retired) await rm(retired, { recursive: true, force: true });
}

/** A refused deploy leaves nothing behind. */
export async function discardStaged(layout: DomainLayout, staging: string): Promise<void> {
  if (STAGING_NAME.test(staging)) await rm(join(layout.appsDir, staging), { recursive: true, force: true });
}
