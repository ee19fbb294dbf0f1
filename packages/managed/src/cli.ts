import { runCli } from '@flotilla/core';

await runCli({
  name: 'managed',
  packageJson: new URL('../package.json', import.meta.url),
  description: 'managed: not built yet',
  commands: (cli) => cli,
});
