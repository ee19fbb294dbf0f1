import { runCli } from '@flotilla/core/cli';
import { masterCommands } from './command-table.js';

await runCli({
  name: 'master',
  packageJson: new URL('../package.json', import.meta.url),
  description: 'master <command>: create and run a Flotilla domain\'s MASTER and change its configuration',
  commands: masterCommands,
});
