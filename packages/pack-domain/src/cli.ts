import { runCli } from '@flotilla/core';

await runCli({
  name: 'pack-domain',
  packageJson: new URL('../package.json', import.meta.url),
  description: 'pack-domain: not built yet',
  commands: (cli) => cli,
});
