import type { Argv } from 'yargs';

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

