import { runCli } from '@flotilla/core';
import { addClusterCommand } from './commands/add-cluster.js';
import { addServerCommand } from './commands/add-server.js';
import { appsCommand } from './commands/apps.js';
import { configCommand } from './commands/config.js';
import { consoleUrlCommand } from './commands/console-url.js';
import { createDomainCommand } from './commands/create-domain.js';
import { deployCommand } from './commands/deploy.js';
import { metricsTokenCommand } from './commands/metrics-token.js';
import { removeServerCommand } from './commands/remove-server.js';
import { startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';
import { stopCommand } from './commands/stop.js';
import { undeployCommand } from './commands/undeploy.js';

await runCli({
  name: 'master',
  packageJson: new URL('../package.json', import.meta.url),
  description: 'master <command>: create and run a Flotilla domain\'s MASTER and change its configuration',
  commands: (cli) =>
    cli
      .command(createDomainCommand)
      .command(startCommand)
      .command(stopCommand)
      .command(statusCommand)
      .command(configCommand)
      .command(addServerCommand)
      .command(removeServerCommand)
      .command(addClusterCommand)
      .command(deployCommand)
      .command(undeployCommand)
      .command(appsCommand)
      .command(consoleUrlCommand)
      .command(metricsTokenCommand),
});
