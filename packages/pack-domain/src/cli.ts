import { runCli } from '@flotilla/core';
import { packCommand } from './command.js';

await runCli({
  name: 'pack-domain',
  packageJson: new URL('../package.json', import.meta.url),
  description: 'pack-domain <domain> [-f FILE]: back up a domain into one verified, relocatable zip',
  commands: (cli) => cli.command(packCommand),
  singleDashOptions: ['file'],
  singleCommand: true,
});
