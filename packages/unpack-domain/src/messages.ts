/** Messages of unpack-domain (and of the archive checks pack-domain shares); the shared ones are in core. */
export const unpackMessages = {
  refused: (archive: string, problem: string) => `refusing ${archive}: ${problem}`,
  unreadableZip: (archive: string, detail: string) => `refusing ${archive}: it is not a readable zip archive (${detail})`,
  badEntry: (archive: string, entry: string, problem: string) => `refusing ${archive}: entry "${entry}" ${problem}`,
  nothingChanged: (message: string) => `${message}; nothing was changed`,
  noArchive: (file: string) => `${file} does not exist (give the backup archive with -f FILE)`,
  notAFile: (file: string) => `${file} is not a file (give the backup archive with -f FILE)`,
  noDefaultArchive: (domain: string, file: string) =>
    `there is no backup of ${domain} at ${file}; create one with "pack-domain ${domain}", or give the archive with -f FILE`,
  nameMismatch: (archive: string, holds: string, asked: string) =>
    `${archive} holds domain ${holds}, not ${asked}: a domain keeps its name (the configuration's name must match its directory); run "unpack-domain -f ${archive}" to restore it as ${holds}`,
  domainOrFile: () => 'name the domain to restore (its backup is <home>/domains/<domain>_packed.zip) or give the archive with -f FILE',
  domainExists: (domain: string, dir: string) =>
    `domain ${domain} already exists at ${dir}; nothing was changed (add -overwrite to replace the files the backup holds, or -delete to replace the whole domain)`,
  domainRunning: (domain: string, running: string[]) =>
    `domain ${domain} has servers running in this home: ${running.join(', ')}; nothing was changed (stop them first: master stop ${domain}, managed stop ${domain} SERVER)`,
  invalidConfig: (archive: string, details: string) => `the configuration in ${archive} is invalid; nothing was changed:\n${details}`,
  invalidChanges: (details: string) => `the new MASTER settings make an invalid configuration; nothing was changed:\n${details}`,
  badRecipient: (what: string, recipient: string) =>
    `${what} ${recipient}: not an age public key (age1…; age-keygen prints one as "public key")`,
  badIdentityFile: (file: string, problem: string) => `cannot read the identity file ${file}: ${problem} (give the file age-keygen wrote)`,
  cannotDecrypt: (archive: string, identityFile: string, detail: string) =>
    `refusing ${archive}: it cannot be decrypted with ${identityFile} (${detail}); give the identity of one of its recipients`,
  encryptedNeedsIdentity: (archive: string) => `${archive} is an encrypted backup (age format): give the identity file that decrypts it with --identity FILE`,
  verified: (archive: string, backup: { domain: string; generation: number | null; files: number; encrypted: boolean }) =>
    `${archive} is a sound${backup.encrypted ? ' encrypted' : ''} backup of domain ${backup.domain}, generation ${backup.generation ?? '(unknown)'}, ${backup.files} files: every check of a restore passed`,
  interrupted: () => 'interrupted before any change; nothing was changed',
};

/** The reference product's questions, word for word (docs/contract.md#messages). */
export const prompts = {
  changeAddress: (address: string) => `The Master Server listener address is already set to [${address}]. Do you want to change it? (y/n): `,
  enterAddress: 'Enter the Master Server base listener address: ',
  changePort: (port: number) => `The Master Server listener port is already set to [${port}]. Do you want to change it? (y/n): `,
  enterPort: 'Enter the Master Server listener port: ',
  changeNode: (node: string) => `The Master Server nodename is already set to [${node}]. Do you want to change it? (y/n): `,
  enterNode: 'Enter the Master Server nodename: ',
  yesOrNo: 'please answer y or n',
  invalid: (what: string, answer: string, rule: string) => `invalid ${what} "${answer}": must be ${rule}`,
};
