import { runCli } from '@flotilla/core';
import { configCommand } from './commands/config.js';
import { createDomainCommand } from './commands/create-domain.js';

await runCli({
  name: 'master',
  packageJson: new URL('../package.json', import.meta.url),
  description: 'master <command>: create and run a Flotilla domain\'s MASTER and change its configuration',
  commands: (cli) => cli.command(createDomainCommand).command(configCommand),
});
