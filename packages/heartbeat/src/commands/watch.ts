import type { CommandModule, GlobalOptions } from '@flotilla/core';
import { formatEvent, memberCliOptions, observerName, runUntilSignal, startMember, type MemberCliOptions } from './common.js';

interface WatchOptions extends MemberCliOptions {
  as?: string;
}

export const watchCommand: CommandModule<GlobalOptions, WatchOptions> = {
  command: 'watch <domain>',
  describe: 'Join the heartbeat group as an observer and print membership events as they happen',
  builder: (cli) =>
    memberCliOptions(cli).option('as', {
      type: 'string',
      requiresArg: true,
      describe: 'Observer name (default: watch.<host>.<pid>); never reported as a server',
    }) as never,
  handler: async (options) => {
    const { context, membership, describe } = await startMember(options, options.as ?? observerName('watch'), 'observer');
    membership.on('event', (event) => process.stdout.write(`${formatEvent(event, context.json)}\n`));
    context.say(`watching the heartbeats of domain ${membership.domain} (${describe}) as ${membership.name}`);
    await runUntilSignal(membership);
  },
};
