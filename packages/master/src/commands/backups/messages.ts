/** Messages of `master backups`. */
export const backupsMessages = {
  unreadableDir: (dir: string, reason: string) => `cannot list the backups in ${dir}: ${reason}`,
  notVerifiedEncrypted: 'encrypted, not verified (give --identity FILE)',
  nodeUnreachable: (node: string, where: string, reason: string) => `the backups on node ${node} (${where}) could not be listed: ${reason}`,
  nodeAnswer: (node: string, line: string) => `node ${node} answered a line that is not "<size> <boot backup name>": ${JSON.stringify(line.slice(0, 200))}`,
  fetchedShort: (where: string, expected: number, got: number) => `${where} is ${expected} bytes on its node, but ${got} arrived`,
  bad: (count: number, total: number, domain: string, problems: string[]) =>
    `${count} of the ${total} backups of ${domain} failed their checks:\n${problems.map((problem) => `  ${problem}`).join('\n')}`,
  someUnreachable: (problems: string[]) => `${problems.join('; ')}: the list above lacks them`,
  none: (domain: string) => `no backups of ${domain} were found (pack-domain ${domain} writes one; set-domain-backup -backupOnBoot true makes one at every boot)`,
};
