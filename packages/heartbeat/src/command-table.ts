import type { CommandEntry } from '@flotilla/core/cli';

/** The heartbeat binary's commands; each implementation is imported when it runs. */
export const heartbeatCommands: CommandEntry[] = [
  {
    command: 'watch <domain>',
    describe: 'Join the heartbeat group as an observer and print membership events as they happen',
    examples: [
      ['$0 watch domain1', 'Print membership events until Ctrl-C'],
      ['$0 watch domain1 --json', 'One JSON line per event'],
    ],
    load: async () => (await import('./commands/watch.js')).watchCommand,
  },
  {
    command: 'ping <domain>',
    describe: 'Check the heartbeat network: join briefly, then list the members heard (exit 3 if none)',
    examples: [
      ['$0 ping domain1', 'Listen for 2.5 s and list who was heard'],
      ['$0 ping domain1 --wait 10000', 'Listen for 10 s, for a lossy network'],
    ],
    load: async () => (await import('./commands/ping.js')).pingCommand,
  },
  {
    command: 'join <domain>',
    describe: 'Diagnostics: run a heartbeat member under a server\'s name until stopped, printing what it sees',
    examples: [['$0 join domain1 --as server1', 'Heartbeat as server1 until Ctrl-C']],
    load: async () => (await import('./commands/join.js')).joinCommand,
  },
];
