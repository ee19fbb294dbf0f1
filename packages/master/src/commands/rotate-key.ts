import { KeyRotationResultSchema, ROTATE_KEY_PATH, commandContext, parseMessage, type CommandModule, type GlobalOptions, type MasterOptions, masterOptions } from '@flotilla/core';
import { connectMaster, withMaster } from '../master-client.js';

interface RotateKeyOptions extends GlobalOptions, MasterOptions {
  domain: string;
}

/** How long a rotation may take: every running server is handed the key in one round trip each, in parallel. */
const ROTATION_TIMEOUT_MS = 30_000;

export const rotateKeyCommand: CommandModule<GlobalOptions, RotateKeyOptions> = {
  command: 'rotate-key <domain>',
  describe: 'Give the domain a new key, through the MASTER: running servers get it at once, the others at their next contact; tokens and links of the old key stop working',
  builder: (cli) => masterOptions(cli).positional('domain', { type: 'string', demandOption: true }) as never,
  handler: async (options) => {
    const context = commandContext(options);
    const connection = await connectMaster(context.home, options.domain, options);
    const result = await withMaster(connection, async (client) =>
      parseMessage(KeyRotationResultSchema, await client.request('POST', ROTATE_KEY_PATH, { timeoutMs: ROTATION_TIMEOUT_MS }), `the answer of the MASTER at ${client.where}`),
    );
    const pending = result.pending.length ? `; ${result.pending.join(', ')} will get it at their next contact with the MASTER` : '';
    context.result(result, `the domain key of ${result.domain} was rotated: ${result.delivered.length} running servers have the new one${pending}. Console links and the metrics token changed: print them again (master console-url, master metrics-token)`);
  },
};
