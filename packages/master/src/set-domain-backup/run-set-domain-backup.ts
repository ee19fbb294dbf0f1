import { API_PREFIX, MasterConfigChangeResultSchema, commandContext, messages, openDomain, parseMessage } from '@flotilla/core';
import { connectMaster, withMaster } from '../master-client.js';
import type { SetDomainBackupOptions } from './command.js';
import { policyChange } from './policy-options.js';
import { formatPolicy, policyView } from './show-policy.js';
import { whichDomain } from './which-domain.js';

/** Prints the backup policy, or sends the change the options make to the running MASTER. */
export async function runSetDomainBackup(options: SetDomainBackupOptions): Promise<void> {
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
}
