import { commandEntry, runCli } from '@flotilla/core/cli';
import { singleDashOptions, unpackCommand } from './command.js';

await runCli({
  name: 'unpack-domain',
  packageJson: new URL('../package.json', import.meta.url),
  description: 'unpack-domain <domain> | -f FILE: restore a domain from a pack-domain archive',
  commands: [
    commandEntry(unpackCommand, [
      ['$0 domain1', 'Restore <home>/domains/domain1_packed.zip'],
      ['$0 -f domain1.zip --port 7001', 'Restore with another MASTER port'],
      ['$0 -f domain1.zip --yes -overwrite', 'Restore over the existing domain, asking nothing'],
    ]),
  ],
  singleDashOptions,
  singleCommand: true,
});
