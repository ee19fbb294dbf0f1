import { runCli } from '@flotilla/core';

await runCli({
  name: 'unpack-domain',
  packageJson: new URL('../package.json', import.meta.url),
  description: 'unpack-domain: not built yet',
  commands: (cli) => cli,
});
