import { runCli } from '@flotilla/core';
import { setDomainBackupCommand } from './command.js';

await runCli({
  name: 'set-domain-backup',
  packageJson: new URL('../../package.json', import.meta.url),
  description: 'set-domain-backup [<domain>] [-backupOnBoot true|false] [-backupDir DIR] [-nodeName N] [--keep K]: the domain backup policy',
  commands: (cli) => cli.command(setDomainBackupCommand),
  singleDashOptions: ['backupOnBoot', 'backupDir', 'nodeName', 'keep'],
  singleCommand: true,
});
