/** Messages of set-domain-backup; the reference product's own (backupPolicyModified) are in core. */
export const policyMessages = {
  inClear: 'none (boot backups are written in clear)',
  noDomain: (domainsDir: string) =>
    `no domain in ${domainsDir}: name the domain (set-domain-backup <domain>) or pass --home`,
  whichDomain: (domainsDir: string, domains: string[]) =>
    `${domainsDir} holds several domains (${domains.join(', ')}): name the one to use (set-domain-backup <domain>)`,
  badOnBoot: (value: string) => `-backupOnBoot ${value}: must be true or false`,
  badDir: () => '-backupDir: must be a directory path (relative to the domain directory, or absolute), not empty',
  badKeep: (value: string) => `--keep ${value}: must be a whole number from 1 to 1000`,
  undefinedNode: (node: string, nodes: string[]) =>
    `-nodeName ${node}: node "${node}" is not defined (defined: ${nodes.join(', ') || 'none'}); use null to copy to no node`,
  title: (domain: string) => `Domain Backup Policy of ${domain}`,
  thisMachine: '(none: backups stay on this machine)',
  noBootBackup: (onBoot: boolean) =>
    `Last boot backup: none recorded${onBoot ? ' (the MASTER writes one at its next start)' : ' (backupOnBoot is false)'}`,
  keptInHome: (location: string) => `kept in ${location} instead`,
  remoteNeedsDomain: () => 'with --master, name the domain (set-domain-backup <domain> --master HOST:PORT --key-file FILE)',
  remotePrint: (domain: string) =>
    `printing the backup policy reads the MASTER's own files: run set-domain-backup ${domain} on the MASTER's machine; from here, give an option to change it (-backupOnBoot, -backupDir, -nodeName, --keep, --encryptTo), or read it with master config get ${domain} backup`,
} as const;
