import { isIP } from 'node:net';
import { UsageError, commandContext, masterEndpoint, openDomain, readDomainKey, type CommandModule, type GlobalOptions } from '@flotilla/core';
import { CONSOLE_LOGIN_PATH } from '../server/console/paths.js';
import { DEFAULT_VALID_HOURS, MAX_VALID_HOURS, issueToken } from '../server/console/tokens.js';

interface ConsoleUrlOptions extends GlobalOptions {
  domain: string;
  hours: string;
  admin: boolean;
}

function parseHours(text: string): number {
  const hours = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!(hours > 0 && hours <= MAX_VALID_HOURS)) throw new UsageError(`--hours ${text}: must be a number of hours above 0 and at most ${MAX_VALID_HOURS}`);
  return hours;
}

export const consoleUrlCommand: CommandModule<GlobalOptions, ConsoleUrlOptions> = {
  command: 'console-url <domain>',
  describe: 'Print a login link to the web console on the MASTER\'s port (offline; a token derived from the key, never the key)',
  builder: (cli) =>
    cli
      .positional('domain', { type: 'string', demandOption: true })
      .option('hours', { type: 'string', default: String(DEFAULT_VALID_HOURS), describe: 'How long the link and its session stay valid' })
      .option('admin', { type: 'boolean', default: false, describe: 'A link whose session may also change things (backup policy, servers, deployments, settings)' }) as never,
  handler: async (options) => {
    const context = commandContext(options);
    const { layout, config } = await openDomain(context.home, options.domain);
    const key = await readDomainKey(layout.keyFile);
    const expires = new Date(Date.now() + parseHours(options.hours) * 3_600_000);
    const { address, port } = masterEndpoint(config);
    const host = isIP(address) === 6 ? `[${address}]` : address;
    const url = `https://${host}:${port}${CONSOLE_LOGIN_PATH}?token=${issueToken(key, options.admin ? 'console-admin' : 'console', expires)}`;
    context.say(`valid until ${expires.toISOString()}; anyone with the link can ${options.admin ? 'watch and change' : 'watch'} the domain until then. The page's certificate is from the domain's CA, ${layout.caCertFile}: a browser that trusts it opens the link without a warning`);
    context.result({ url, expires: expires.toISOString() }, url);
  },
};
