import {
  API_PREFIX,
  MasterConfigChangeResultSchema,
  commandContext,
  messages,
  openDomain,
  parseMessage,
  type CommandModule,
  type GlobalOptions,
} from '@flotilla/core';
import { connectMaster, withMaster } from '../master-client.js';
import { policyChange, type PolicyOptions } from './policy-options.js';
import { formatPolicy, policyView } from './show-policy.js';
import { whichDomain } from './which-domain.js';

interface SetDomainBackupOptions extends GlobalOptions, PolicyOptions {
  domain?: string;
}

export const setDomainBackupCommand: CommandModule<GlobalOptions, SetDomainBackupOptions> = {
  command: '$0 [domain]',
  describe: 'Print the backup policy, or change it through the running MASTER',
  builder: (cli) =>
    cli
      .positional('domain', { type: 'string', describe: 'The domain (may be left out when the home holds only one)' })
      .option('backupOnBoot', { type: 'string', requiresArg: true, describe: 'true|false: write a backup at every MASTER start' })
      .option('backupDir', { type: 'string', requiresArg: true, describe: 'Backup directory, relative to the domain directory or absolute' })
      .option('nodeName', { type: 'string', requiresArg: true, describe: 'Node to copy boot backups to through its exec, or null for none' })
      .option('keep', { type: 'string', requiresArg: true, describe: 'How many boot backups to keep (1 to 1000)' }) as never,
  handler: async (options) => {
    const context = commandContext(options);
    const domain = await openDomain(context.home, await whichDomain(context.home, options.domain));
    const change = policyChange(options, domain.config);
    if (!change) {
      const view = await policyView(domain);
      context.result(view, () => formatPolicy(view));
      return;
    }
    const connection = await connectMaster(context.home, domain.layout.name);
    const result = await withMaster(connection, async (client) =>
      parseMessage(MasterConfigChangeResultSchema, await client.request('POST', `${API_PREFIX}/config`, { body: change }), `the answer of the MASTER at ${client.where}`),
    );
    context.result({ domain: result.domain, generation: result.generation, policy: change.policy }, messages.backupPolicyModified.join('\n'));
  },
};
