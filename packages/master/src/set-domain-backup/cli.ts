import { commandEntry, runCli } from '@flotilla/core/cli';
import { setDomainBackupCommand } from './command.js';

await runCli({
  name: 'set-domain-backup',
  packageJson: new URL('../../package.json', import.meta.url),
  description: 'set-domain-backup [<domain>] [-backupOnBoot true|false] [-backupDir DIR] [-nodeName N] [--keep K]: the domain backup policy',
  commands: [
    commandEntry(setDomainBackupCommand, [
      ['$0 domain1', 'Print the backup policy'],
      ['$0 domain1 -backupOnBoot true -nodeName node2', 'Back up at every MASTER start, copied to node2'],
      ['$0 domain1 --keep 20', 'Keep the last 20 boot backups'],
    ]),
  ],
  singleDashOptions: ['backupOnBoot', 'backupDir', 'nodeName', 'keep', 'encryptTo'],
  singleCommand: true,
});
