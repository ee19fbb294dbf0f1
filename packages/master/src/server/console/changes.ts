import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MasterConfigChangeSchema,
  ServerOperationRequestSchema,
  UsageError,
  assertName,
  messages,
  parseMessage,
  settingPath,
  type DomainConfig,
  type DomainLayout,
  type MasterConfigChange,
  type MasterConfigChangeResult,
  type ServerOperationAnswer,
  type ServerOperationRequest,
} from '@flotilla/core';
import { parseValueArgument } from '../../commands/config.js';
import { stageApplication } from '../../deploy/stage.js';
import { deployChange, deployedMessage } from '../../deploy/deploy-change.js';
import { policyChange, type PolicyOptions } from '../../set-domain-backup/policy-options.js';

/** What the console's changes need of the MASTER: its configuration and its one way to change it. */
export interface ChangeTarget {
  layout: DomainLayout;
  config(): DomainConfig;
  /** The MASTER's turn (master-server.ts applyChange), as for a change from the commands. */
  apply(change: MasterConfigChange): Promise<MasterConfigChangeResult>;
  /** The MASTER's ServerOperations.run, as for `master start-server` and its kin. */
  serverOperation(request: ServerOperationRequest): Promise<ServerOperationAnswer>;
}

/** A change's answer to the page: what the commands would print, and the new generation. */
export interface ChangeDone {
  message: string;
  /** The new generation, for a change of the configuration. */
  generation?: number;
  /** For the log line: what was changed, in the commands' words. */
  what: string;
}

/** Refused before anything was changed, with a message for each field of the form that is wrong. */
export class FieldErrors extends UsageError {
  constructor(readonly fields: Record<string, string>) {
    super(Object.values(fields).join('; '));
  }
}

const POLICY_FIELDS = ['backupOnBoot', 'backupDir', 'nodeName', 'keep'] as const;
/** The MASTER checks recipients with the whole configuration: its refusal names them so. */
const RECIPIENT_REFUSAL = /encryptTo|age public key/;

function text(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new UsageError(`${name} must be text`);
  return value;
}

function jsonBody(body: Buffer): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new UsageError('the console sent a change that is not JSON: reload the page');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError('the console sent a change that is not a JSON object: reload the page');
  return parsed as Record<string, unknown>;
}

/**
 * The changes the web console makes, each through the code of the command that makes it, so it
 * is validated as the command validates it and answered with the command's messages.
 */
export class ConsoleChanges {
  constructor(private readonly target: ChangeTarget) {}

  /** As `set-domain-backup`: its own option checks, each field checked alone so its message goes beside it. */
  async backupPolicy(body: Buffer): Promise<ChangeDone> {
    const input = jsonBody(body);
    const options: PolicyOptions = {};
    for (const field of POLICY_FIELDS) {
      const value = text(input, field);
      if (value !== undefined) options[field] = value;
    }
    if (input.encryptTo !== undefined) {
      if (!Array.isArray(input.encryptTo) || !input.encryptTo.every((key) => typeof key === 'string')) throw new UsageError('encryptTo must be a list of age public keys');
      // An empty list is "none": boot backups in clear, as set-domain-backup -encryptTo none.
      options.encryptTo = input.encryptTo.length ? (input.encryptTo as string[]) : ['none'];
    }
    const config = this.target.config();
    const fields: Record<string, string> = {};
    for (const field of POLICY_FIELDS) {
      if (options[field] === undefined) continue;
      try {
        policyChange({ [field]: options[field] }, config);
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        fields[field] = error.message;
      }
    }
    if (Object.keys(fields).length) throw new FieldErrors(fields);
    const change = policyChange(options, config);
    if (!change) throw new UsageError('nothing to change: the form sent no field');
    const result = await this.apply(change).catch((error: Error) => {
      if (error instanceof UsageError && RECIPIENT_REFUSAL.test(error.message)) throw new FieldErrors({ encryptTo: error.message });
      throw error;
    });
    return { message: messages.backupPolicyModified.join('\n'), generation: result.generation, what: `backup policy ${JSON.stringify(change.policy)}` };
  }

  /** As `master config set`: the path checked first, the value read as JSON5 or as text. */
  async setSetting(body: Buffer): Promise<ChangeDone> {
    const input = jsonBody(body);
    const path = text(input, 'path') ?? '';
    const value = text(input, 'value') ?? '';
    settingPath(path);
    const result = await this.apply({ op: 'set', path, value: parseValueArgument(value) });
    return { message: `${path} set: generation ${result.generation}`, generation: result.generation, what: `set ${path} = ${value.slice(0, 200)}` };
  }

  /** As `master deploy` of a zip: staged by the command's own code, then installed in the MASTER's turn. */
  async deploy(query: URLSearchParams, zip: Buffer): Promise<ChangeDone> {
    const name = query.get('name') ?? '';
    const context = query.get('context') ?? '';
    const targets = (query.get('targets') ?? '').split(',').map((target) => target.trim()).filter(Boolean);
    assertName('application', name);
    if (zip.length === 0) throw new UsageError('choose a zip of the application to upload');
    // The change is checked before anything is staged, so a refusal leaves nothing behind.
    const app = { name, context, targets };
    parseMessage(MasterConfigChangeSchema, deployChange(app, 'unstaged'), 'a change from the web console');
    const upload = await mkdtemp(join(tmpdir(), 'flotilla-console-upload-'));
    try {
      const file = join(upload, `${name}.zip`);
      await writeFile(file, zip, { mode: 0o600 });
      const staging = await stageApplication(file, this.target.layout.appsDir, name);
      const result = await this.target.apply(deployChange(app, staging));
      return {
        message: deployedMessage(app, result.generation),
        generation: result.generation,
        what: `deploy ${name} at ${context} to ${targets.join(', ')} (${zip.length} bytes uploaded)`,
      };
    } finally {
      await rm(upload, { recursive: true, force: true });
    }
  }

  /** As `master undeploy`. */
  async undeploy(body: Buffer): Promise<ChangeDone> {
    const name = text(jsonBody(body), 'name') ?? '';
    const result = await this.apply({ op: 'undeploy', name });
    return { message: `application ${name} undeployed: generation ${result.generation}`, generation: result.generation, what: `undeploy ${name}` };
  }

  /** As `master start-server`, `stop-server`, `restart-server [--rolling]`: the MASTER's own operations. */
  async serverOperation(body: Buffer): Promise<ChangeDone & { answer: ServerOperationAnswer }> {
    const request = parseMessage(ServerOperationRequestSchema, jsonBody(body), 'a server operation from the web console');
    const answer = await this.target.serverOperation(request);
    const failed = answer.results.filter((result) => !result.ok);
    const message = answer.results.map((result) => (result.ok ? `${result.server}: ${request.operation} done, ${result.status}` : `${result.server}: ${result.error} (${result.status})`)).join('\n');
    return { message, what: `${request.rolling ? 'rolling ' : ''}${request.operation} ${request.targets.join(', ')}${failed.length ? ` (failed for ${failed.map((result) => result.server).join(', ')})` : ''}`, answer };
  }

  /** Checked by the schema a change from the commands is checked by, then applied in the MASTER's turn. */
  private apply(change: unknown): Promise<MasterConfigChangeResult> {
    return this.target.apply(parseMessage(MasterConfigChangeSchema, change, 'a change from the web console'));
  }
}
