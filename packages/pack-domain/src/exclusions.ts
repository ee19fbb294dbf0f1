import { isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * What a backup of `domainDir` leaves out besides runtime state: the backup directory
 * (`backup.dir`, relative to the domain directory or absolute) and the archive being written,
 * whenever they lie inside config/ or apps/. Returned domain-relative and `/`-separated, as
 * collectDomainFiles takes them.
 */
export function backupExclusions(domainDir: string, backupDir: string, targets: readonly string[] = []): string[] {
  return [resolve(domainDir, backupDir), ...targets]
    .map((path) => relative(domainDir, path))
    .filter((path) => path !== '' && !path.startsWith('..') && !isAbsolute(path))
    .map((path) => path.split(sep).join('/'));
}
