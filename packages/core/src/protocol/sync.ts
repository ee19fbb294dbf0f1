import type { FileEntry } from '../file-tree.js';

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

/** One complete, content-addressed state of the domain. */
export interface GenerationManifest {
  protocol: typeof PROTOCOL_VERSION;
  domain: string;
  generation: number;
  /** digestEntries(files): equal digests mean equal content. */
  digest: string;
  files: FileEntry[];
}

/**
 * `POST /v1/content`: files of the current generation, asked for by hash only (no request names a
 * path). The answer is their bytes one after the other, in the order asked, with `content-length`
 * their total: the manifest gives each file's size, which frames it. A hash may be asked twice.
 */
export interface ContentRequest {
  hashes: string[];
}

/** Hashes in one content request: thousands of small files per round trip, in a bounded body. */
export const MAX_CONTENT_HASHES = 4096;
/** A content request's body limit: MAX_CONTENT_HASHES hashes (about 67 bytes each) fit. */
export const MAX_CONTENT_REQUEST_BODY = 512 * 1024;

export const SERVER_STATUSES = ['SHUTDOWN', 'STARTING', 'STANDBY', 'RUNNING', 'SHUTTING_DOWN', 'FAILURE_SUSPECTED', 'FAILED'] as const;
export type ServerStatus = (typeof SERVER_STATUSES)[number];
export type ServerMode = 'MANAGED' | 'INDEPENDENT';
export type IndependentReason = 'master-unreachable-at-start' | 'master-connection-lost';

export interface MasterAddress {
  address: string;
  port: number;
}

export interface AppStatus {
  name: string;
  context: string;
  status: 'STARTING' | 'RUNNING' | 'FAILED' | 'STOPPED';
  restarts: number;
}

/** What an MS says of itself: `managed status`, and what it reports to the MASTER. */
export interface ManagedStatus {
  domain: string;
  server: string;
  status: ServerStatus;
  statusSince: string;
  pid: number;
  mode: ServerMode;
  reason?: IndependentReason;
  /** Since when the server is in its mode (MANAGED, or INDEPENDENT for `reason`). */
  since: string;
  generation: number | null;
  master: MasterAddress & { connected: boolean };
  address: string;
  port: number;
  http: number;
  node: string;
  apps: AppStatus[];
}

/** One row of `master status`. */
export interface StatusRow {
  name: string;
  master: boolean;
  status: ServerStatus;
  since: string | null;
  node: string;
  pid: number | null;
  cluster?: string;
  mode?: ServerMode;
  reason?: IndependentReason;
  generation?: number | null;
  address: string;
  port: number;
  http?: number;
  /** Why a FAILED server is not being restarted (restart limit, autoRestart off, start error). */
  failure?: string;
}

export interface StatusTable {
  domain: string;
  generation: number;
  servers: StatusRow[];
}

/** Events the MASTER pushes down an attached MS's event stream. */
export type StreamEvent =
  | { type: 'generation'; generation: number; digest: string }
  | { type: 'ping' }
  | { type: 'stopping' };

/** Sent by a MASTER that has just started to every MS of its configuration, at its management port. */
export interface MasterUpEvent {
  type: 'master-up';
  domain: string;
  master: MasterAddress;
  generation: number;
  digest: string;
}

/** Online configuration changes, applied by the MASTER as one new generation each. */
export type ConfigChange =
  | { op: 'set'; path: string; value: unknown }
  | { op: 'add-server'; server: string; node: string; address: string; port: number; http: number; cluster?: string }
  | { op: 'remove-server'; server: string }
  | { op: 'add-cluster'; cluster: string; servers: string[] }
  /** `staging`: a directory in the MASTER's apps/ prepared by `master deploy`. */
  | { op: 'deploy'; name: string; context: string; targets: string[]; staging: string }
  | { op: 'undeploy'; name: string };

export interface ConfigChangeResult {
  domain: string;
  generation: number;
  change: ConfigChange;
}

/** The body of every error answer, so a client can exit with the code the server meant. */
export interface ErrorBody {
  error: string;
  exitCode: number;
}

/**
 * `POST /v1/backup`: asks the MASTER for a backup of its current generation, taken inside its
 * change serialisation so that the archive is exactly one generation. The MASTER and the asking
 * `pack-domain` share the machine: `target` is an absolute path there (absent: the domain's
 * default `<home>/domains/<domain>_packed.zip`).
 */
export interface BackupRequest {
  target?: string;
}

/** The answer to a BackupRequest; also what `pack-domain --json` prints. */
export interface BackupResult {
  domain: string;
  path: string;
  /** The generation the archive holds (null when the files on disk are not one the MASTER numbered). */
  generation: number | null;
  files: number;
  contentBytes: number;
  /** Size and SHA-256 of the archive itself. */
  bytes: number;
  sha256: string;
  createdAt: string;
}

/** `set-domain-backup`: changes only the backup settings given, as one generation. */
export interface BackupPolicyChange {
  op: 'set-backup-policy';
  policy: { onBoot?: boolean; dir?: string; node?: string | null; keep?: number };
}

/** Every change `POST /v1/config` takes. */
export type MasterConfigChange = ConfigChange | BackupPolicyChange;

export interface MasterConfigChangeResult {
  domain: string;
  generation: number;
  change: MasterConfigChange;
}
