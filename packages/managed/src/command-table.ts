import type { CommandEntry } from '@flotilla/core/cli';

/** The managed binary's commands; each implementation is imported when it runs. */
export const managedCommands: CommandEntry[] = [
  {
    command: 'start <domain> <server>',
    describe: 'Run a managed server: sync from the MASTER, or start INDEPENDENT from the local cache',
    examples: [
      ['$0 start domain1 server1', 'Run server1 in the foreground'],
      ['$0 start domain1 server1 --detach', 'Run it in the background and print its PID once it serves'],
      ['$0 start domain1 server1 --master 10.0.0.5:9736 --key-file ./domain.key', 'First start on a machine without the domain'],
    ],
    load: async () => (await import('./commands/start.js')).startCommand,
  },
  {
    command: 'stop <domain> <server>',
    describe: 'Stop a managed server gracefully',
    examples: [['$0 stop domain1 server1', 'Stop server1']],
    load: async () => (await import('./commands/stop.js')).stopCommand,
  },
  {
    command: 'status <domain> <server>',
    describe: 'The managed server\'s own view: status, mode and why, generation, MASTER link',
    examples: [
      ['$0 status domain1 server1', 'What server1 says of itself'],
      ['$0 status domain1 server1 --json', 'The same as one JSON document'],
    ],
    load: async () => (await import('./commands/status.js')).statusCommand,
  },
];
