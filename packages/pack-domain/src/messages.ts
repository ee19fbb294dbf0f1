/** Messages of pack-domain; the shared ones (packCompleted) are in core. */
export const packMessages = {
  link: (domainDir: string, path: string, problem: string) =>
    `cannot pack ${path} in ${domainDir}: it ${problem} (replace it with the file or directory it points to)`,
  special: (domainDir: string, path: string) =>
    `cannot pack ${path} in ${domainDir}: it is not a regular file or directory (a socket, device or pipe has no place in config/ or apps/)`,
  badName: (domainDir: string, path: string, problem: string) => `cannot pack ${path} in ${domainDir}: its path ${problem}; rename it`,
  tooMany: (domainDir: string, count: number, limit: number) =>
    `cannot pack ${domainDir}: it holds ${count} files, more than the ${limit} a backup may hold`,
  manifestTooBig: (bytes: number, limit: number) => `cannot pack: the manifest would be ${bytes} bytes, more than the ${limit} a backup may hold`,
  missingEssential: (domain: string, path: string) =>
    `cannot pack domain ${domain}: ${path} is missing, and a backup without it could not restore the domain`,
  changed: (path: string, what: string) => `${path} ${what} while it was being packed`,
  keptChanging: (domain: string, detail: string) =>
    `cannot pack a consistent backup of ${domain}: ${detail}, twice in a row; wait for whatever is writing to the domain (a deploy or configuration change) to finish, then pack again`,
  selfCheckFailed: (detail: string) => `the archive just written failed its verification, so it was not kept: ${detail}`,
  receivedBad: (where: string, detail: string) => `the backup received from the MASTER at ${where} failed its verification, so it was not kept: ${detail}`,
  remoteNotReached: (domain: string, where: string) => `MASTER of ${domain} at ${where} is unreachable: a backup from another machine is packed by the MASTER; start it (master start ${domain}) or pack on its machine`,
  targetIsDirectory: (target: string) => `${target} is a directory; give the archive's file name with -f FILE`,
  encrypting: (domain: string, recipients: number) => `Encrypting the backup of ${domain} for ${recipients} recipient${recipients === 1 ? '' : 's'}...`,
  packingThroughMaster: (domain: string, seconds: number) => `Packing ${domain} through its MASTER, which writes and verifies one generation: ${seconds} s`,
  listing: (domain: string) => `Packing ${domain}: listing its files...`,
  packing: (domain: string) => `Packing ${domain}`,
  verifying: (domain: string) => `Verifying the archive of ${domain}`,
  targetDirMissing: (dir: string) => `cannot write the archive into ${dir}: no such directory`,
};
