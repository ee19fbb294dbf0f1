/**
 * User-facing messages shared by several binaries. The reference product's messages are kept word
 * for word (docs/contract.md#messages): its operators grep for them.
 */
export const messages = {
  domainMissing: (domain: string, domainsDir: string, existing: string[]) =>
    `domain ${domain} does not exist in ${domainsDir} (${existing.length ? `domains there: ${existing.join(', ')}` : 'no domain there yet'}); create it with "master create-domain ${domain}" or pass --home`,
  domainExists: (domain: string, dir: string) =>
    `domain ${domain} already exists at ${dir}; nothing was changed (choose another name, or remove that directory first)`,
  invalidName: (what: string, name: string, rule: string) => `invalid ${what} name "${name}": must be ${rule}`,
  masterUnreachable: (domain: string, address: string, port: number) =>
    `MASTER of ${domain} at ${address}:${port} is unreachable: configuration changes need the MASTER`,
  packCompleted: (domain: string, path: string) =>
    `Packing the domain [${domain}] configuration completed successfully at the path [${path}].`,
  unpackCompleted: (domain: string) => `Unpacking the domain [${domain}] configuration completed successfully.`,
  unknownCommand: (command: string, suggestion: string | undefined) =>
    `Unknown command "${command}"${suggestion ? `: did you mean ${suggestion}?` : ''}`,
  unknownHistoryVersion: (domain: string, version: string, kept: string[]) =>
    `there is no version ${JSON.stringify(version)} in the history of ${domain} (${kept.length ? `kept: ${kept.join(', ')}` : 'no version is kept yet: the configuration was never changed'}); "master history ${domain}" lists them`,
  noSpace: (path: string, dir: string | undefined) =>
    `no space left on the device that holds ${path}: free space there${dir ? ` (see "df -h ${dir}")` : ''} or move the home to a larger disk, then try again`,
  quotaExceeded: (path: string) => `the disk quota is exceeded writing ${path}: free space within the quota (or have it raised), then try again`,
  permissionDenied: (path: string) =>
    `permission denied on ${path}: run as the user that owns the Flotilla home, or give that user access to it (see "ls -ld ${path}")`,
  readOnlyFileSystem: (path: string) => `${path} is on a read-only file system: remount it read-write, or choose a --home on a writable disk`,
  backupPolicyModified: ['Successfully performed the MODIFY operation for Domain Backup Policy.', 'Check the results using "set-domain-backup"'],
} as const;
