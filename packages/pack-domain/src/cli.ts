// First: it tunes V8 for a short-lived process before anything else loads.
import './tier-up-budget.js';
import { commandEntry, runCli } from '@flotilla/core/cli';
import { packCommand } from './command.js';

await runCli({
  name: 'pack-domain',
  packageJson: new URL('../package.json', import.meta.url),
  description: 'pack-domain <domain> [-f FILE]: back up a domain into one verified, relocatable zip',
  commands: [
    commandEntry(packCommand, [
      ['$0 domain1', 'Write <home>/domains/domain1_packed.zip'],
      ['$0 domain1 -f /backups/domain1.zip', 'Write the backup to a file of your choice'],
      ['$0 domain1 --recipient age1...', 'Write <home>/domains/domain1_packed.zip.age, encrypted for that age public key'],
    ]),
  ],
  singleDashOptions: ['file', 'recipient'],
  singleCommand: true,
});
