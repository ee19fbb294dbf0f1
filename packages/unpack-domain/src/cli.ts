import { runCli } from '@flotilla/core';
import { singleDashOptions, unpackCommand } from './command.js';

await runCli({
  name: 'unpack-domain',
  packageJson: new URL('../package.json', import.meta.url),
  description: 'unpack-domain <domain> | -f FILE: restore a domain from a pack-domain archive',
  commands: (cli) => cli.command(unpackCommand),
  singleDashOptions,
  singleCommand: true,
});
