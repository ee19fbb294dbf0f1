import type { CommandEntry } from '@flotilla/core/cli';

/**
 * The master binary's commands, as its help lists them. Each implementation is imported when it
 * runs: `master status` does not load the MASTER server, nor `master --help` anything.
 */
export const masterCommands: CommandEntry[] = [
  {
    command: 'create-domain <domain>',
    describe: 'Create a domain: its directory, configuration and key',
    examples: [
      ['$0 create-domain domain1', 'A domain with its MASTER on 0.0.0.0:9736 and no servers yet'],
      ['$0 create-domain domain1 --port 7001 --server server1:8088 --server server2:8089', 'With two managed servers in cluster1'],
    ],
    load: async () => (await import('./commands/create-domain.js')).createDomainCommand,
  },
  {
    command: 'start <domain>',
    describe: 'Run the MASTER of a domain',
    examples: [
      ['$0 start domain1', 'Run in the foreground; Ctrl-C stops it gracefully'],
      ['$0 start domain1 --detach', 'Run in the background and print its PID once it accepts connections'],
    ],
    load: async () => (await import('./commands/start.js')).startCommand,
  },
  {
    command: 'stop <domain>',
    describe: 'Stop the MASTER gracefully (the managed servers keep serving)',
    examples: [['$0 stop domain1', 'Stop the MASTER of domain1']],
    load: async () => (await import('./commands/stop.js')).stopCommand,
  },
  {
    command: 'status <domain>',
    describe: 'The server table: status and time in it, node, PID, cluster, mode, generation',
    examples: [
      ['$0 status domain1', 'Print the server table once'],
      ['$0 status domain1 --watch', 'Print it again whenever it changes'],
      ['$0 status domain1 --json', 'The table as one JSON document'],
    ],
    load: async () => (await import('./commands/status.js')).statusCommand,
  },
  {
    command: 'config',
    describe: 'Print the configuration (config), read one setting (config get) or change one (config set)',
    examples: [
      ['$0 config domain1', 'Print the validated configuration'],
      ['$0 config get domain1 backup.keep', 'Print one setting'],
      ['$0 config set domain1 backup.keep 20', 'Change one setting through the MASTER'],
    ],
    load: async () => (await import('./commands/config.js')).configCommand,
  },
  {
    command: 'add-server <domain> <server>',
    describe: 'Add a managed server to the configuration, through the MASTER',
    examples: [['$0 add-server domain1 server3 --node node1 --address 127.0.0.1 --port 7031 --http 8090 --cluster cluster1', 'Add server3 to cluster1']],
    load: async () => (await import('./commands/add-server.js')).addServerCommand,
  },
  {
    command: 'remove-server <domain> <server>',
    describe: 'Remove a stopped managed server (and its cluster memberships), through the MASTER',
    examples: [['$0 remove-server domain1 server3', 'Remove server3, once it is stopped']],
    load: async () => (await import('./commands/remove-server.js')).removeServerCommand,
  },
  {
    command: 'start-server <domain> <targets..>',
    describe: 'Start servers (or every server of a cluster) on their nodes, through the MASTER',
    examples: [['$0 start-server domain1 server1 cluster2', 'Start server1 and every server of cluster2; wait until they serve']],
    load: async () => (await import('./commands/server-operation.js')).startServerCommand,
  },
  {
    command: 'stop-server <domain> <targets..>',
    describe: 'Stop servers gracefully, through the MASTER; failure handling leaves them stopped',
    examples: [['$0 stop-server domain1 server1', 'Stop server1; it stays SHUTDOWN until started again']],
    load: async () => (await import('./commands/server-operation.js')).stopServerCommand,
  },
  {
    command: 'restart-server <domain> <targets..>',
    describe: 'Restart servers through the MASTER; --rolling takes them one at a time',
    examples: [['$0 restart-server domain1 cluster1 --rolling', 'Restart cluster1 one server at a time']],
    load: async () => (await import('./commands/server-operation.js')).restartServerCommand,
  },
  {
    command: 'logs <domain> <server>',
    describe: "A server's log, or one application's output, read through the MASTER from the server itself",
    examples: [
      ['$0 logs domain1 server1 --lines 100', "The last 100 lines of server1's log"],
      ['$0 logs domain1 server1 --app hello --stream stderr --follow', "hello's stderr on server1, then every new line until Ctrl-C"],
    ],
    load: async () => (await import('./commands/logs.js')).logsCommand,
  },
  {
    command: 'add-cluster <domain> <cluster>',
    describe: 'Add a cluster of existing servers, through the MASTER',
    examples: [['$0 add-cluster domain1 cluster2 --servers server3,server4', 'A cluster of server3 and server4']],
    load: async () => (await import('./commands/add-cluster.js')).addClusterCommand,
  },
  {
    command: 'deploy <domain> <source>',
    describe: 'Deploy an application (a directory or a zip of one) to servers and clusters, through the MASTER',
    examples: [['$0 deploy domain1 ./hello --name hello --context /hello --target cluster1', 'Deploy ./hello to every server of cluster1']],
    load: async () => (await import('./commands/deploy.js')).deployCommand,
  },
  {
    command: 'undeploy <domain> <name>',
    describe: 'Remove an application; its servers drain and stop it, through the MASTER',
    examples: [['$0 undeploy domain1 hello', 'Remove the application hello']],
    load: async () => (await import('./commands/undeploy.js')).undeployCommand,
  },
  {
    command: 'apps <domain>',
    describe: 'List the deployed applications: context, targets and the servers they run on (offline)',
    examples: [['$0 apps domain1', 'The applications of domain1']],
    load: async () => (await import('./commands/apps.js')).appsCommand,
  },
  {
    command: 'console-url <domain>',
    describe: 'Print a login link to the web console on the MASTER\'s port (offline; a token derived from the key, never the key)',
    examples: [
      ['$0 console-url domain1 --hours 2', 'A read-only link valid for two hours'],
      ['$0 console-url domain1 --admin', 'A link whose session may also change things'],
    ],
    load: async () => (await import('./commands/console-url.js')).consoleUrlCommand,
  },
  {
    command: 'metrics-token <domain>',
    describe: 'Print the bearer token Prometheus scrapes /metrics with, on the MASTER and every server (offline; derived from the key, never the key)',
    examples: [['$0 metrics-token domain1', 'The token for Prometheus\' bearer_token setting']],
    load: async () => (await import('./commands/metrics-token.js')).metricsTokenCommand,
  },
  {
    command: 'backups <domain>',
    describe: 'List every backup of the domain (boot backups here and on the backup node, pack-domain files): time, generation, size, where, encrypted; --verify checks each fully',
    examples: [
      ['$0 backups domain1', 'The backups of domain1, oldest first'],
      ['$0 backups domain1 --verify --identity backup-key.txt', 'Check every backup as a restore would, encrypted ones too: exit 4 if one is bad'],
    ],
    load: async () => (await import('./commands/backups/command.js')).backupsCommand,
  },
  {
    command: 'history <domain>',
    describe: 'List the kept versions of the configuration (config/.history/), through the MASTER',
    examples: [['$0 history domain1', 'The earlier configurations of domain1, oldest first']],
    load: async () => (await import('./commands/history/command.js')).historyCommand,
  },
  {
    command: 'rollback <domain> <history-version>',
    describe: 'Bring a kept version of the configuration back as a new generation, through the MASTER; the servers get it as any change',
    examples: [['$0 rollback domain1 domain_20261124_101500', 'Use again the configuration that was in use until 10:15:00 UTC that day']],
    load: async () => (await import('./commands/rollback/command.js')).rollbackCommand,
  },
  {
    command: 'rotate-key <domain>',
    describe: 'Give the domain a new key, through the MASTER: running servers get it at once, the others at their next contact; tokens and links of the old key stop working',
    examples: [['$0 rotate-key domain1', 'After a server machine or a backup with the key was lost or exposed']],
    load: async () => (await import('./commands/rotate-key.js')).rotateKeyCommand,
  },
];
