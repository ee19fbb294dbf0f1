import { runCli } from '@flotilla/core/cli';
import { managedCommands } from './command-table.js';

await runCli({
  name: 'managed',
  packageJson: new URL('../package.json', import.meta.url),
  description: 'managed <command>: run a Flotilla managed server, with or without its MASTER',
  commands: managedCommands,
});
