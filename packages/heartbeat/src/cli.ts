import { runCli } from '@flotilla/core/cli';
import { heartbeatCommands } from './command-table.js';

await runCli({
  name: 'heartbeat',
  packageJson: new URL('../package.json', import.meta.url),
  description: 'heartbeat <command>: watch and check a Flotilla domain\'s heartbeat group (membership and failure detection)',
  commands: heartbeatCommands,
});
