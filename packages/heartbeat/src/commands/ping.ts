import { ExitCode, UnreachableError, UsageError, type CommandModule, type GlobalOptions } from '@flotilla/core';
import { describeStats, memberCliOptions, observerName, startMember, type MemberCliOptions } from './common.js';

interface PingOptions extends MemberCliOptions {
  wait: string;
}

/** Long enough for several announcements (one a second) to arrive even with some loss. */
const DEFAULT_WAIT_MS = 2500;

export const pingCommand: CommandModule<GlobalOptions, PingOptions> = {
  command: 'ping <domain>',
  describe: 'Check the heartbeat network: join briefly, then list the members heard (exit 3 if none)',
  builder: (cli) =>
    memberCliOptions(cli).option('wait', {
      type: 'string',
      default: String(DEFAULT_WAIT_MS),
      requiresArg: true,
      describe: 'How long to listen, in milliseconds',
    }) as never,
  handler: async (options) => {
    const waitMs = Number(options.wait);
    if (!Number.isInteger(waitMs) || waitMs < 1 || waitMs > 600_000) {
      throw new UsageError(`--wait ${options.wait}: must be milliseconds from 1 to 600000`);
    }
    const { context, membership, configured, describe } = await startMember(options, observerName('ping'), 'observer');
    context.say(`listening to the heartbeats of domain ${membership.domain} (${describe}) for ${waitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    const heard = membership.members().filter((m) => !m.self && m.state === 'ALIVE');
    const stats = membership.stats();
    await membership.leave();

    const names = new Set(heard.map((m) => m.name));
    const missing = configured.filter((name) => !names.has(name));
    const dropped = Object.entries(stats.dropped).filter(([, count]) => count > 0);
    if (!heard.length) {
      if (context.json) process.exitCode = ExitCode.unreachable;
      else throw new UnreachableError(`no member of domain ${membership.domain} was heard (${describe}) in ${waitMs} ms; ${describeStats(membership)}`);
    }
    context.result(
      {
        domain: membership.domain,
        heard: heard.map(({ name, status, address, port, incarnation, meta }) => ({ name, status, address, port, incarnation, meta })),
        missing,
        dropped: stats.dropped,
      },
      () =>
        [
          `heard ${heard.length} member(s) of domain ${membership.domain} (${describe}):`,
          ...heard.map((m) => `  ${m.name}  ${m.status}  ${m.address}:${m.port}  incarnation ${m.incarnation}`),
          ...(missing.length ? [`not heard: ${missing.join(', ')}`] : []),
          ...(dropped.length ? [`dropped: ${dropped.map(([reason, n]) => `${n} ${reason}`).join(', ')}`] : []),
        ].join('\n'),
    );
  },
};
