import type { Argv } from 'yargs';
import { UsageError } from '../errors.js';

/** Where a command finds the MASTER from a machine without the domain (remote/master-access.ts resolves them). */
export const MASTER_ENV = 'FLOTILLA_MASTER';
export const KEY_FILE_ENV = 'FLOTILLA_KEY_FILE';

export interface MasterOptions {
  master?: string;
  keyFile?: string;
}

/** `--master` and `--key-file`, for every command that talks to a running MASTER. */
export function masterOptions<T>(cli: Argv<T>): Argv<T & MasterOptions> {
  return cli
    .option('master', { type: 'string', requiresArg: true, describe: `HOST:PORT of the MASTER, from a machine without the domain (default: $${MASTER_ENV})` })
    .option('key-file', { type: 'string', requiresArg: true, describe: `A copy of the domain key, with --master (default: $${KEY_FILE_ENV})` }) as Argv<T & MasterOptions>;
}

/** Where the MASTER is, from the options or the environment; undefined: the domain of this home. */
export function remoteTarget(options: MasterOptions, env: NodeJS.ProcessEnv): { master: string; keyFile: string | undefined } | undefined {
  const master = options.master ?? (env[MASTER_ENV] || undefined);
  const keyFile = options.keyFile ?? (env[KEY_FILE_ENV] || undefined);
  if (master === undefined) {
    if (options.keyFile !== undefined) throw new UsageError(`--key-file ${options.keyFile} needs --master HOST:PORT (or $${MASTER_ENV}): the MASTER to talk to from this machine`);
    return undefined;
  }
  return { master, keyFile };
}

/**
 * True when the options or the environment name a MASTER to reach over the network (--master). Here,
 * not in remote/master-access.ts, so that a command deciding whether to load the network client need not load it.
 */
export function wantsRemoteMaster(options: MasterOptions, env: NodeJS.ProcessEnv = process.env): boolean {
  return remoteTarget(options, env) !== undefined;
}
