import {
  API_PREFIX,
  ConfigChangeResultSchema,
  DEPLOY_UPLOAD_PATH,
  UsageError,
  applicationNameProblem,
  assertName,
  commandContext,
  contextProblem,
  deployUploadQuery,
  masterOptions,
  parseMessage,
  type CommandModule,
  type GlobalOptions,
  type MasterOptions,
  type PeerClient,
} from '@flotilla/core/client';
import { deployChange, deployedMessage } from '../deploy/deploy-change.js';
import { stageApplication } from '../deploy/stage.js';
import { connectMaster, withMaster } from '../master-client.js';

interface DeployOptions extends GlobalOptions, MasterOptions {
  domain: string;
  source: string;
  name: string;
  context: string;
  target: string;
}

/** The MASTER answers once the application is installed as a generation: an upload of a large one takes a while. */
const DEPLOY_TIMEOUT_MS = 60_000;
const UPLOAD_TIMEOUT_MS = 10 * 60_000;

export const deployCommand: CommandModule<GlobalOptions, DeployOptions> = {
  command: 'deploy <domain> <source>',
  describe: 'Deploy an application (a directory or a zip of one) to servers and clusters, through the MASTER',
  builder: (cli) =>
    masterOptions(cli)
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
    const app = { name: options.name, context: options.context, targets };
    const connection = await connectMaster(context.home, options.domain, options);
    const { local } = connection;
    const result = await withMaster(connection, async (client) => {
      // Refuse at once while the MASTER is down, before copying anything.
      await client.request('GET', `${API_PREFIX}/status`);
      const answer = local
        ? await client.request('POST', `${API_PREFIX}/config`, {
            body: deployChange(app, await stageApplication(options.source, local.layout.appsDir, options.name)),
            timeoutMs: DEPLOY_TIMEOUT_MS,
          })
        : await upload(client, options, targets);
      return parseMessage(ConfigChangeResultSchema, answer, `the answer of the MASTER at ${client.where}`);
    });
    context.result(result, deployedMessage(app, result.generation));
  },
};

/** From a machine without the domain: the application travels to the MASTER (core's protocol/upload.ts). */
async function upload(client: PeerClient, options: DeployOptions, targets: string[]): Promise<unknown> {
  // Imported here: the archive writer (pack-domain, unpack-domain's checks) is a third of what a
  // local deploy would otherwise load before it copies a file.
  const { packForUpload } = await import('../deploy/upload-archive.js');
  const archive = await packForUpload(options.source, options.domain, options.name);
  try {
    const query = deployUploadQuery({ name: options.name, context: options.context, targets });
    return await client.upload(`${DEPLOY_UPLOAD_PATH}?${query}`, archive.file, archive, UPLOAD_TIMEOUT_MS);
  } finally {
    await archive.dispose();
  }
}
