import { API_PREFIX, MasterConfigChangeResultSchema, UsageError, commandContext, messages, openDomain, parseMessage, wantsRemoteMaster } from '@flotilla/core';
import { connectMaster, domainConfigOf, withMaster } from '../master-client.js';
import type { SetDomainBackupOptions } from './command.js';
import { policyMessages } from './messages.js';
import { policyChange } from './policy-options.js';
import { formatPolicy, policyView } from './show-policy.js';
import { whichDomain } from './which-domain.js';

/** Prints the backup policy, or sends the change the options make to the running MASTER. */
export async function runSetDomainBackup(options: SetDomainBackupOptions): Promise<void> {
  const context = commandContext(options);
  if (wantsRemoteMaster(options)) return changeRemotely(options);
  const domain = await openDomain(context.home, await whichDomain(context.home, options.domain));
  const change = policyChange(options, domain.config);
  if (!change) {
    const view = await policyView(domain);
    context.result(view, () => formatPolicy(view));
    return;
  }
  const connection = await connectMaster(context.home, domain.layout.name, options);
  const result = await withMaster(connection, async (client) =>
    parseMessage(MasterConfigChangeResultSchema, await client.request('POST', `${API_PREFIX}/config`, { body: change }), `the answer of the MASTER at ${client.where}`),
  );
  context.result({ domain: result.domain, generation: result.generation, policy: change.policy }, messages.backupPolicyModified.join('\n'));
}

/** From a machine without the domain: the change is checked against the MASTER's configuration, then sent to it. */
async function changeRemotely(options: SetDomainBackupOptions): Promise<void> {
  const context = commandContext(options);
  if (options.domain === undefined) throw new UsageError(policyMessages.remoteNeedsDomain());
  const connection = await connectMaster(context.home, options.domain, options);
  const result = await withMaster(connection, async (client) => {
    const change = policyChange(options, await domainConfigOf(connection));
    // The policy's record of the last boot backup is in the MASTER's files, on its machine.
    if (!change) throw new UsageError(policyMessages.remotePrint(options.domain!));
    const answer = await client.request('POST', `${API_PREFIX}/config`, { body: change });
    return { answer: parseMessage(MasterConfigChangeResultSchema, answer, `the answer of the MASTER at ${client.where}`), change };
  });
  context.result({ domain: result.answer.domain, generation: result.answer.generation, policy: result.change.policy }, messages.backupPolicyModified.join('\n'));
}
