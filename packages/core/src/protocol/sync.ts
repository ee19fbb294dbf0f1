import { z } from 'zod';
import { BACKUP_LIMITS } from '../backup-manifest.js';
import { AddressSchema, ApplicationSchema, NameSchema, PortSchema } from '../config/schema.js';
import { Sha256Schema, SizeSchema, treeFields } from '../file-entry.js';
import { refineTree, relativePathProblem } from '../relative-path.js';

/**
 * The sync and management protocol between the MASTER and its Managed Servers (docs/protocol.md).
 * Every message is a versioned type here, shared by both sides. A change that an older peer would
 * misread bumps PROTOCOL_VERSION; peers refuse versions they do not speak.
 */
export const PROTOCOL_VERSION = 2;
/** Every path of the protocol starts with this, so a future version can be served beside it. */
export const API_PREFIX = `/v${PROTOCOL_VERSION}`;

/**
 * A generation is the configuration file and apps/ (scanGeneration): the key and the history
 * stay on the MASTER.
 */
export const GENERATION_CONFIG_FILE = 'config/domain.json5';

/*
 * Every message is a zod schema and its type is derived from it, so that what a peer is checked
 * against (parseMessage) and what the code relies on cannot drift apart. Objects are strict: both
 * ends are Flotilla of the same protocol version, and a key we do not know means a peer we do not
 * speak with. Strings and lists are bounded, so a hostile message cannot carry megabytes in a field.
 */

/** Generous for any real value, small enough that a list of them stays small. */
const MAX_TEXT = 4096;
/** Servers, clusters, applications or targets in one message: far above any real domain. */
const MAX_NAMES = 10_000;

const text = z.string().max(MAX_TEXT);
const timestamp = z.iso.datetime();
const count = SizeSchema;
const generationNumber = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** The application port: 0 until a server has one. */
const httpPort = z.number().int().min(0).max(65535);

/**
 * Why `path` may not name a file of a generation, or undefined when it may: the rule of every path
 * we receive (as in a backup), and only the configuration file or something below apps/.
 */
export function generationPathProblem(path: string): string | undefined {
  const problem = relativePathProblem(path, 'the cache');
  if (problem) return problem;
  if (path !== GENERATION_CONFIG_FILE && !path.startsWith('apps/')) return `is neither ${GENERATION_CONFIG_FILE} nor below apps/`;
  return undefined;
}

/**
 * One complete, content-addressed state of the domain: its files, the symbolic links inside its
 * applications and its empty directories. A peer that does not know links and directories refuses
 * the message (strict objects), so the protocol version stays.
 */
export const GenerationManifestSchema = z
  .strictObject({
    protocol: z.literal(PROTOCOL_VERSION),
    domain: NameSchema,
    generation: generationNumber,
    /** digestTree(the tree): equal digests mean equal content. */
    digest: Sha256Schema,
    // A generation too large to back up is not one this MASTER could have made.
    ...treeFields(BACKUP_LIMITS.maxEntries),
  })
  .superRefine(refineTree(generationPathProblem));
export type GenerationManifest = z.output<typeof GenerationManifestSchema>;

/**
 * `GET /v1/generation?known=DIGEST` when DIGEST is still current: nothing to sync. Otherwise the
 * answer is a GenerationManifest.
 */
export const GenerationUnchangedSchema = z.strictObject({ unchanged: z.literal(true), generation: generationNumber, digest: Sha256Schema });

/** Hashes in one content request: thousands of small files per round trip, in a bounded body. */
export const MAX_CONTENT_HASHES = 4096;
/** A content request's body limit: MAX_CONTENT_HASHES hashes (about 67 bytes each) fit. */
export const MAX_CONTENT_REQUEST_BODY = 512 * 1024;

/**
 * `POST /v1/content`: files of the current generation, asked for by hash only (no request names a
 * path). The answer is their bytes one after the other, in the order asked, with `content-length`
 * their total: the manifest gives each file's size, which frames it. A hash may be asked twice.
 */
export const ContentRequestSchema = z.strictObject({
  hashes: z
    .array(Sha256Schema)
    .min(1, { error: 'a content request asks for at least one hash' })
    .max(MAX_CONTENT_HASHES, { error: `a content request asks for at most ${MAX_CONTENT_HASHES} files` }),
});
export type ContentRequest = z.output<typeof ContentRequestSchema>;

export const SERVER_STATUSES = ['SHUTDOWN', 'STARTING', 'STANDBY', 'RUNNING', 'SHUTTING_DOWN', 'FAILURE_SUSPECTED', 'FAILED'] as const;
const ServerStatusSchema = z.enum(SERVER_STATUSES);
export type ServerStatus = z.output<typeof ServerStatusSchema>;
const ServerModeSchema = z.enum(['MANAGED', 'INDEPENDENT']);
export type ServerMode = z.output<typeof ServerModeSchema>;
const IndependentReasonSchema = z.enum(['master-unreachable-at-start', 'master-connection-lost']);
export type IndependentReason = z.output<typeof IndependentReasonSchema>;

export const MasterAddressSchema = z.strictObject({ address: AddressSchema, port: PortSchema });
export type MasterAddress = z.output<typeof MasterAddressSchema>;

const AppStatusSchema = z.strictObject({
  name: NameSchema,
  context: ApplicationSchema.shape.context,
  status: z.enum(['STARTING', 'RUNNING', 'FAILED', 'STOPPED']),
  restarts: count,
});
export type AppStatus = z.output<typeof AppStatusSchema>;

/** What an MS says of itself: `managed status`, and what it reports to the MASTER. */
/** How many peer restarts a report carries at most: the newest, while the MASTER was away. */
export const MAX_REPORTED_PEER_RESTARTS = 32;

/**
 * A restart a server made of a FAILED peer of its node while the MASTER was unreachable
 * (docs/operations.md, "Restarts while the MASTER is down"), told to the MASTER when it returns.
 */
export const PeerRestartSchema = z.strictObject({
  server: NameSchema,
  at: timestamp,
  /** `restarted`: it runs again; `failed`: that attempt failed; `gave-up`: the restart limit was reached. */
  outcome: z.enum(['restarted', 'failed', 'gave-up']),
  detail: z.string().max(1024),
});
export type PeerRestart = z.output<typeof PeerRestartSchema>;

export const ManagedStatusSchema = z.strictObject({
  domain: NameSchema,
  server: NameSchema,
  status: ServerStatusSchema,
  statusSince: timestamp,
  pid: count,
  mode: ServerModeSchema,
  reason: IndependentReasonSchema.optional(),
  /** Since when the server is in its mode (MANAGED, or INDEPENDENT for `reason`). */
  since: timestamp,
  generation: generationNumber.nullable(),
  master: MasterAddressSchema.extend({ connected: z.boolean() }),
  address: AddressSchema,
  port: PortSchema,
  http: httpPort,
  node: NameSchema,
  apps: z.array(AppStatusSchema).max(MAX_NAMES),
  /** Restarts of peers made while the MASTER was away and not yet told to it. */
  peerRestarts: z.array(PeerRestartSchema).max(MAX_REPORTED_PEER_RESTARTS).optional(),
});
export type ManagedStatus = z.output<typeof ManagedStatusSchema>;

/** One row of `master status`. */
const StatusRowSchema = z.strictObject({
  name: NameSchema,
  master: z.boolean(),
  status: ServerStatusSchema,
  since: timestamp.nullable(),
  node: NameSchema,
  pid: count.nullable(),
  cluster: NameSchema.optional(),
  mode: ServerModeSchema.optional(),
  reason: IndependentReasonSchema.optional(),
  generation: generationNumber.nullable().optional(),
  address: AddressSchema,
  port: PortSchema,
  http: httpPort.optional(),
  /** Why a FAILED server is not being restarted (restart limit, autoRestart off, start error). */
  failure: text.optional(),
});
export type StatusRow = z.output<typeof StatusRowSchema>;

export const StatusTableSchema = z.strictObject({
  domain: NameSchema,
  generation: generationNumber,
  servers: z.array(StatusRowSchema).max(MAX_NAMES),
});
export type StatusTable = z.output<typeof StatusTableSchema>;

/** Events the MASTER pushes down an attached MS's event stream. */
export const StreamEventSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('generation'), generation: generationNumber, digest: Sha256Schema }),
  z.strictObject({ type: z.literal('ping') }),
  z.strictObject({ type: z.literal('stopping') }),
]);
export type StreamEvent = z.output<typeof StreamEventSchema>;

/**
 * How often the MASTER pings down every event stream: often enough that a server notices a silent
 * MASTER (its machine gone, no FIN or reset ever coming) within a few seconds, and a line of a few
 * bytes a second per server costs the MASTER nothing worth counting.
 */
export const STREAM_PING_MS = 1_000;

/**
 * How long a server hears nothing on its event stream before it takes the MASTER for gone (ends the
 * stream, INDEPENDENT): three missed pings, so one late or lost ping never detaches it, and half a
 * ping more for timers that run late on a busy machine.
 */
export const STREAM_SILENCE_MS = 3 * STREAM_PING_MS + STREAM_PING_MS / 2;

/** Sent by a MASTER that has just started to every MS of its configuration, at its management port. */
export const MasterUpEventSchema = z.strictObject({
  type: z.literal('master-up'),
  domain: NameSchema,
  master: MasterAddressSchema,
  generation: generationNumber,
  digest: Sha256Schema,
});
export type MasterUpEvent = z.output<typeof MasterUpEventSchema>;

const names = z.array(NameSchema).max(MAX_NAMES);

/** Online configuration changes, applied by the MASTER as one new generation each. */
const configChangeOptions = [
  // The path's segments are checked where it is walked (settingPath), with a message that names them.
  z.strictObject({ op: z.literal('set'), path: text, value: z.unknown().refine((value): boolean => value !== undefined, { error: 'is missing' }) }),
  z.strictObject({
    op: z.literal('add-server'),
    server: NameSchema,
    node: NameSchema,
    address: AddressSchema,
    port: PortSchema,
    http: PortSchema,
    cluster: NameSchema.optional(),
  }),
  z.strictObject({ op: z.literal('remove-server'), server: NameSchema }),
  z.strictObject({ op: z.literal('add-cluster'), cluster: NameSchema, servers: names }),
  /** `staging`: a directory in the MASTER's apps/ prepared by `master deploy`. */
  z.strictObject({ op: z.literal('deploy'), name: NameSchema, context: ApplicationSchema.shape.context, targets: names.min(1), staging: text }),
  z.strictObject({ op: z.literal('undeploy'), name: NameSchema }),
] as const;
export const ConfigChangeSchema = z.discriminatedUnion('op', configChangeOptions);
export type ConfigChange = z.output<typeof ConfigChangeSchema>;

/** `set-domain-backup`: changes only the backup settings given, as one generation. */
export const BackupPolicyChangeSchema = z.strictObject({
  op: z.literal('set-backup-policy'),
  // Each value is checked with the whole configuration the change makes (BackupSchema).
  policy: z.strictObject({ onBoot: z.boolean().optional(), dir: text.optional(), node: NameSchema.nullable().optional(), keep: count.optional(), encryptTo: z.array(text).max(20).optional() }),
});
export type BackupPolicyChange = z.output<typeof BackupPolicyChangeSchema>;

/** Every change `POST /v1/config` takes. */
export const MasterConfigChangeSchema = z.discriminatedUnion('op', [...configChangeOptions, BackupPolicyChangeSchema]);
export type MasterConfigChange = z.output<typeof MasterConfigChangeSchema>;

export const ConfigChangeResultSchema = z.strictObject({ domain: NameSchema, generation: generationNumber, change: ConfigChangeSchema });
export type ConfigChangeResult = z.output<typeof ConfigChangeResultSchema>;

export const MasterConfigChangeResultSchema = z.strictObject({ domain: NameSchema, generation: generationNumber, change: MasterConfigChangeSchema });
export type MasterConfigChangeResult = z.output<typeof MasterConfigChangeResultSchema>;

/** The body of every error answer, so a client can exit with the code the server meant. */
export const ErrorBodySchema = z.strictObject({ error: text, exitCode: z.number().int().min(0).max(255) });
export type ErrorBody = z.output<typeof ErrorBodySchema>;

/** The answer to `POST /v1/stop`, from the MASTER or an MS: the process that is going away. */
export const StopAnswerSchema = z.strictObject({ stopping: z.literal(true), pid: count });

/**
 * `POST /v1/backup`: asks the MASTER for a backup of its current generation, taken inside its
 * change serialisation so that the archive is exactly one generation. The MASTER and the asking
 * `pack-domain` share the machine: `target` is an absolute path there (absent: the domain's
 * default `<home>/domains/<domain>_packed.zip`).
 */
export const BackupRequestSchema = z.strictObject({ target: text.min(1).optional() });
export type BackupRequest = z.output<typeof BackupRequestSchema>;

/**
 * `POST /v2/backup/download` (empty body): `pack-domain -f FILE` from a machine without the domain.
 * The MASTER packs one generation as for a BackupRequest and answers the archive itself, with its
 * `content-length`; the receiver verifies it whole before it renames it into place.
 */
export const BACKUP_DOWNLOAD_PATH = `${API_PREFIX}/backup/download`;

/** The answer to a BackupRequest; also what `pack-domain --json` prints. */
export const BackupResultSchema = z.strictObject({
  domain: NameSchema,
  path: text,
  /** The generation the archive holds (null when the files on disk are not one the MASTER numbered). */
  generation: generationNumber.nullable(),
  files: count,
  contentBytes: count,
  /** Size and SHA-256 of the archive itself. */
  bytes: count,
  sha256: Sha256Schema,
  createdAt: timestamp,
});
export type BackupResult = z.output<typeof BackupResultSchema>;
