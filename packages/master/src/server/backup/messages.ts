/** Messages of the MASTER's backups: errors its clients see and the text of its backup log lines. */
export const backupMessages = {
  relativeTarget: (target: string) =>
    `invalid backup request: the target ${JSON.stringify(target)} is not an absolute path (the MASTER writes it on its own machine, whatever its working directory)`,
  notPlainFile: (domainDir: string, path: string) =>
    `cannot back up ${path} in ${domainDir}: it is a symbolic link or special file, and a backup holds regular files only (replace it with a plain file)`,
  requestedWritten: (path: string, generation: number | null, sender: string) =>
    `backup of generation ${generation ?? '(unknown)'} written to ${path} for ${sender}`,
  requestedSent: (bytes: number, generation: number | null, sender: string) =>
    `backup of generation ${generation ?? '(unknown)'} (${bytes} bytes) sent to ${sender}`,
  bootWritten: (file: string, generation: number | null, where: string) =>
    `boot backup ${file} of generation ${generation ?? '(unknown)'} written to ${where}`,
  bootCopyFailed: (file: string, node: string, reason: string, kept: string) =>
    `boot backup ${file} could not be copied to node ${node} (${reason}); it was kept in ${kept} instead: fix the node's exec or its disk, or change the policy with set-domain-backup`,
  bootFailed: (reason: string) => `no boot backup was written: ${reason}`,
  bootNotRecorded: (file: string, reason: string) =>
    `the outcome of this boot's backup could not be recorded in ${file} (${reason}); set-domain-backup will show an older one`,
  copyCommandFailed: (node: string, exec: string, detail: string) => `"${exec}" on node ${node} failed: ${detail}`,
  pruneFailed: (dir: string, keep: number, reason: string) =>
    `old boot backups in ${dir} could not be removed to keep the newest ${keep} (${reason}); the new one was written, remove old ones by hand`,
} as const;
