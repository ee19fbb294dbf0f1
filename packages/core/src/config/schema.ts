import { z } from 'zod';
import { HeartbeatTimingsSchema } from './heartbeat-timings.js';
import { ADDRESS_RULE, NAME_PATTERN, NAME_RULE, applicationNameProblem, contextProblem, isMulticastIPv4, isValidAddress, isValidName } from './names.js';

/**
 * The domain configuration (docs/contract.md#configuration, docs/configuration.md): the one source of truth for the TypeScript types
 * (`DomainConfig`) and for the JSON Schema shipped for editors (`schema/domain.schema.json`).
 * Every default is here, with the reason for its value; the heartbeat timings' are beside it, in
 * heartbeat-timings.ts, with the rules between them.
 */

const nameError = { error: `must be ${NAME_RULE}` };
// The pattern reaches the JSON Schema for editors; the refinement also rules out "." and "..".
const name = z.string().regex(NAME_PATTERN, nameError).refine(isValidName, nameError);
const applicationName = z.string().superRefine((value, ctx) => {
  const problem = applicationNameProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
const address = z.string().refine(isValidAddress, { error: `must be ${ADDRESS_RULE}` });
const port = z
  .number()
  .int({ error: 'must be a whole number from 1 to 65535' })
  .min(1, { error: 'must be a port from 1 to 65535' })
  .max(65535, { error: 'must be a port from 1 to 65535' });
/** The same rules for the names, addresses and ports that protocol messages carry (protocol/sync.ts). */
export { name as NameSchema, address as AddressSchema, port as PortSchema };

/** The reference product's MASTER port, kept so its operators find the MASTER where they expect it. */
export const DEFAULT_MASTER_PORT = 9736;
/** Listen everywhere, as the reference product does: the MASTER must be reachable from other nodes. */
export const DEFAULT_MASTER_ADDRESS = '0.0.0.0';
export const DEFAULT_MASTER_NAME = 'adminServer';
export const DEFAULT_NODE_NAME = 'node1';

/**
 * Unicast heartbeats: members that share an address (several servers on one host) each need their
 * own UDP port; absent, `heartbeat.port`.
 */
const heartbeatPort = port.optional();

export const MasterSchema = z.strictObject({
  name: name.default(DEFAULT_MASTER_NAME),
  node: name,
  address: address.default(DEFAULT_MASTER_ADDRESS),
  port: port.default(DEFAULT_MASTER_PORT),
  heartbeatPort,
  /**
   * A certificate of the operator's own PKI for browsers (and curl by host name) on the MASTER's
   * port, instead of the domain CA's: PEM files, relative to the domain directory or absolute.
   * Flotilla's own clients always get the domain CA's certificate (docs/security.md).
   */
  consoleCertificate: z.strictObject({ cert: z.string().min(1).max(4096), key: z.string().min(1).max(4096) }).optional(),
});

export const NodeSchema = z.strictObject({
  host: address,
  /**
   * How to run a command on the node: a prefix such as `ssh -o BatchMode=yes {host}`. Absent means
   * the node is this machine and commands run directly.
   */
  exec: z.string().min(1, { error: 'must be a command prefix such as "ssh -o BatchMode=yes {host}"' }).optional(),
});

export const ServerSchema = z.strictObject({
  node: name,
  address,
  /** Management port: sync and control traffic. */
  port,
  /** Application port: the only port users' traffic reaches. */
  http: port,
  /** A crashed server is what the MASTER is there to bring back, so restarting is the default. */
  autoRestart: z.boolean().default(true),
  heartbeatPort,
});

export const ClusterSchema = z.strictObject({
  servers: z.array(name).min(1, { error: 'must list at least one server' }),
});

/** An administratively scoped group (RFC 2365): it never leaves the organisation's network. */
export const DEFAULT_HEARTBEAT_GROUP = '239.192.0.36';
export const DEFAULT_HEARTBEAT_PORT = 3030;

export const HeartbeatSchema = z.strictObject({
  /** Multicast needs no member list; unicast is for networks (most clouds) that drop multicast. */
  mode: z.enum(['multicast', 'unicast'], { error: 'must be "multicast" or "unicast"' }).default('multicast'),
  group: z
    .string()
    .refine(isMulticastIPv4, { error: 'must be an IPv4 multicast address (224.0.0.0 to 239.255.255.255)' })
    .default(DEFAULT_HEARTBEAT_GROUP),
  port: port.default(DEFAULT_HEARTBEAT_PORT),
  /** Absent: the interface that holds the member's own address, never the default route. */
  interface: address.optional(),
  /** 1 keeps heartbeats on the local network segment, where the domain's members are. */
  ttl: z
    .number()
    .int({ error: 'must be a whole number from 1 to 255' })
    .min(1, { error: 'must be from 1 to 255' })
    .max(255, { error: 'must be from 1 to 255' })
    .default(1),
  /** Failure-detection timings (heartbeat-timings.ts gives each default, its reason and the rules between them). */
  timings: HeartbeatTimingsSchema.optional(),
});

/** How the MASTER restarts a FAILED server (docs/contract.md#heartbeats-and-restarts). */
export const RestartSchema = z.strictObject({
  /** Five tries ride out a slow machine; more would hide a server that cannot start. */
  attempts: z.number().int({ error: 'must be a whole number from 1 to 100' }).min(1, { error: 'must be from 1 to 100' }).max(100, { error: 'must be from 1 to 100' }).default(5),
  /** Attempts are counted within this many seconds; older ones are forgiven. */
  windowSeconds: z.number().int({ error: 'must be a whole number of seconds' }).min(1, { error: 'must be at least 1' }).default(120),
});

export const BackupSchema = z.strictObject({
  /** Off by default, as in the reference product: the operator chooses where backups go. */
  onBoot: z.boolean().default(false),
  /** Relative to the domain directory, or absolute. */
  dir: z.string().min(1, { error: 'must be a directory path' }).default('backups'),
  node: name.nullable().default(null),
  /** Ten boots' worth: enough to step back past a bad change without filling the disk. */
  keep: z
    .number()
    .int({ error: 'must be a whole number from 1 to 1000' })
    .min(1, { error: 'must be from 1 to 1000' })
    .max(1000, { error: 'must be from 1 to 1000' })
    .default(10),
  /**
   * Age public keys the boot backups (and their node copies) are encrypted for; empty, they are
   * written in clear as before. A backup holds the domain key: one that leaves the machine should
   * be encrypted (docs/operations.md, Encrypted backups).
   */
  encryptTo: z
    .array(z.string().regex(/^age1[0-9a-z]{50,}$/, { error: 'must be an age public key (age1…, as age-keygen prints it)' }))
    .max(20, { error: 'may name at most 20 recipients' })
    .default([]),
});

/** What a managed server does when it comes back under management (docs/contract.md#synchronisation-and-the-cache). */
export const ReattachSchema = z.strictObject({
  /**
   * On by default: a server that was away must end up running what the domain says. Off, the
   * cache still synchronises, and the applications stay as they run until the server restarts or a
   * change reaches it while managed: for domains where an unattended redeploy is not wanted.
   */
  applyApplications: z.boolean().default(true),
});

/** Every log file a server writes: its own (detached), the MASTER's, each application's (docs/operations.md, "Logs"). */
export const LogsSchema = z.strictObject({
  /** 10 MiB: days of a busy server's log in a file an editor or grep still opens at once. */
  maxBytes: z
    .number()
    .int({ error: 'must be a whole number of bytes' })
    .min(4096, { error: 'must be at least 4096 bytes' })
    .max(1024 ** 4, { error: 'must be at most 1 TiB' })
    .default(10 * 1024 * 1024),
  /** Five rotated files beside the current one: at most 60 MiB per log with the default size. */
  keep: z
    .number()
    .int({ error: 'must be a whole number from 0 to 1000' })
    .min(0, { error: 'must be from 0 to 1000' })
    .max(1000, { error: 'must be from 0 to 1000' })
    .default(5),
});

export const ApplicationSchema = z.strictObject({
  context: z.string().superRefine((context, ctx) => {
    const problem = contextProblem(context);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  targets: z.array(name).min(1, { error: 'must name at least one server or cluster' }),
});

export const DomainConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  name,
  master: MasterSchema,
  nodes: z.record(name, NodeSchema),
  servers: z.record(name, ServerSchema).default({}),
  clusters: z.record(name, ClusterSchema).default({}),
  heartbeat: HeartbeatSchema.prefault({}),
  backup: BackupSchema.prefault({}),
  restart: RestartSchema.prefault({}),
  reattach: ReattachSchema.prefault({}),
  logs: LogsSchema.prefault({}),
  applications: z.record(applicationName, ApplicationSchema).default({}),
});

/** A loaded configuration, every default filled in. */
export type DomainConfig = z.output<typeof DomainConfigSchema>;
/** What a user may write in domain.json5. */
export type DomainConfigInput = z.input<typeof DomainConfigSchema>;
export type ServerConfig = DomainConfig['servers'][string];
export type NodeConfig = DomainConfig['nodes'][string];
export type ApplicationConfig = DomainConfig['applications'][string];
export type BackupPolicy = DomainConfig['backup'];
export type HeartbeatConfig = DomainConfig['heartbeat'];
export type RestartPolicy = DomainConfig['restart'];
export type LogRotation = DomainConfig['logs'];
