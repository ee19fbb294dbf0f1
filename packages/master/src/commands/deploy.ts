import { API_PREFIX, ConfigChangeResultSchema, UsageError, applicationNameProblem, assertName, commandContext, contextProblem, parseMessage, type CommandModule, type GlobalOptions } from '@flotilla/core';
import { stageApplication } from '../deploy/stage.js';
import { connectMaster, withMaster } from '../master-client.js';

interface DeployOptions extends GlobalOptions {
  domain: string;
  source: string;
  name: string;
  context: string;
  target: string;
}

export const deployCommand: CommandModule<GlobalOptions, DeployOptions> = {
  command: 'deploy <domain> <source>',
  describe: 'Deploy an application (a directory or a zip of one) to servers and clusters, through the MASTER',
  builder: (cli) =>
    cli
      .positional('domain', { type: 'string', demandOption: true })
      .positional('source', { type: 'string', demandOption: true, describe: 'Directory or zip with a Node.js HTTP server' })
      .option('name', { type: 'string', demandOption: true, requiresArg: true, describe: 'Application name' })
      .option('context', { type: 'string', demandOption: true, requiresArg: true, describe: 'Context path, e.g. /hello' })
      .option('target', { type: 'string', demandOption: true, requiresArg: true, describe: 'Servers and clusters, comma-separated' }) as never,
  handler: async (options) => {
    const context = commandContext(options);
    assertName('application', options.name);
    // The configuration's own rules, checked here so that nothing is copied for a change the MASTER would refuse.
    const nameProblem = applicationNameProblem(options.name);
    if (nameProblem) throw new UsageError(`application name "${options.name}" ${nameProblem}`);
    const problem = contextProblem(options.context);
    if (problem) throw new UsageError(`context "${options.context}" ${problem}`);
    const targets = options.target.split(',').map((target) => target.trim()).filter(Boolean);
    const connection = await connectMaster(context.home, options.domain);
    const result = await withMaster(connection, async (client) => {
      // Refuse at once while the MASTER is down, before copying anything.
      await client.request('GET', `${API_PREFIX}/status`);
      const staging = await stageApplication(options.source, connection.layout.appsDir, options.name);
      const answer = await client.request('POST', `${API_PREFIX}/config`, {
        body: { op: 'deploy', name: options.name, context: options.context, targets, staging },
        timeoutMs: 60_000,
      });
      return parseMessage(ConfigChangeResultSchema, answer, `the answer of the MASTER at ${client.where}`);
    });
    context.result(result, `application ${options.name} deployed at ${options.context} to ${targets.join(', ')}: generation ${result.generation}`);
  },
};
