import { runCli } from '@flotilla/core';

await runCli({
  name: 'heartbeat',
  packageJson: new URL('../package.json', import.meta.url),
  description: 'heartbeat: not built yet',
  commands: (cli) => cli,
});
