import { runCli } from '@flotilla/core';
import { startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';
import { stopCommand } from './commands/stop.js';

await runCli({
  name: 'managed',
  packageJson: new URL('../package.json', import.meta.url),
  description: 'managed <command>: run a Flotilla managed server, with or without its MASTER',
  commands: (cli) => cli.command(startCommand).command(stopCommand).command(statusCommand),
});
