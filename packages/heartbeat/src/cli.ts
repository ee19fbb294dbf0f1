import { runCli } from '@flotilla/core';
import { joinCommand } from './commands/join.js';
import { pingCommand } from './commands/ping.js';
import { watchCommand } from './commands/watch.js';

await runCli({
  name: 'heartbeat',
  packageJson: new URL('../package.json', import.meta.url),
  description: 'heartbeat <command>: watch and check a Flotilla domain\'s heartbeat group (membership and failure detection)',
  commands: (cli) => cli.command(watchCommand).command(pingCommand).command(joinCommand),
});
