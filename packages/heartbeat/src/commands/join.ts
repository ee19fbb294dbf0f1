import type { CommandModule, GlobalOptions } from '@flotilla/core';
import { formatEvent, memberCliOptions, runUntilSignal, startMember, type MemberCliOptions } from './common.js';

interface JoinOptions extends MemberCliOptions {
  as: string;
}

/**
 * A member with nothing behind it: for diagnostics (does this host reach the group?) and for tests
 * that need servers to fail in every way a real one can.
 */
export const joinCommand: CommandModule<GlobalOptions, JoinOptions> = {
  command: 'join <domain>',
  describe: 'Diagnostics: run a heartbeat member under a server\'s name until stopped, printing what it sees',
  builder: (cli) =>
    memberCliOptions(cli).option('as', {
      type: 'string',
      demandOption: true,
      requiresArg: true,
      describe: 'The member\'s name: a server or the MASTER of the domain',
    }) as never,
  handler: async (options) => {
    const { context, membership, describe } = await startMember(options, options.as, 'diagnostic');
    membership.on('event', (event) => process.stdout.write(`${formatEvent(event, context.json)}\n`));
    context.say(`${membership.name} joined the heartbeats of domain ${membership.domain} (${describe}), pid ${process.pid}`);
    await runUntilSignal(membership);
  },
};
