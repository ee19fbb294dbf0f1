import JSON5 from 'json5';
import {
  UsageError,
  commandContext,
  formatSettingPath,
  openDomain,
  renderDomainConfig,
  type CommandModule,
  type GlobalOptions,
} from '@flotilla/core';

interface ConfigOptions extends GlobalOptions {
  domain: string;
}

interface ConfigGetOptions extends ConfigOptions {
  path: string;
}

const showCommand: CommandModule<GlobalOptions, ConfigOptions> = {
  command: '$0 <domain>',
  describe: 'Print the validated configuration (offline; never the key)',
  builder: (cli) => cli.positional('domain', { type: 'string', demandOption: true }) as never,
  handler: async (options) => {
    const context = commandContext(options);
    const { config } = await openDomain(context.home, options.domain);
    context.result(config, () => renderDomainConfig(config).trimEnd());
  },
};

const getCommand: CommandModule<GlobalOptions, ConfigGetOptions> = {
  command: 'get <domain> <path>',
  describe: 'Print one setting, e.g. backup.keep or servers.server1.http',
  builder: (cli) =>
    cli
      .positional('domain', { type: 'string', demandOption: true })
      .positional('path', { type: 'string', demandOption: true, describe: 'Dotted path of the setting' }) as never,
  handler: async (options) => {
    const context = commandContext(options);
    const { config } = await openDomain(context.home, options.domain);
    const value = settingAt(config, options.path);
    context.result(value, () => (typeof value === 'string' ? value : JSON5.stringify(value, { quote: '"' })));
  },
};

/** Walks a dotted path (`servers.server1.port`); the error lists what exists where the walk stopped. */
export function settingAt(root: unknown, dotted: string): unknown {
  const parts = dotted.split('.').filter(Boolean);
  let value = root;
  for (const [index, part] of parts.entries()) {
    const isMap = value !== null && typeof value === 'object' && !Array.isArray(value);
    if (!isMap || !Object.hasOwn(value as object, part)) {
      const where = formatSettingPath(parts.slice(0, index));
      const known = isMap ? Object.keys(value as object).join(', ') || 'nothing' : 'nothing: it is a value';
      throw new UsageError(`no setting "${dotted}": ${where} has ${known}`);
    }
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

export const configCommand: CommandModule<GlobalOptions, ConfigOptions> = {
  command: 'config',
  describe: 'Print the configuration, or one setting of it (config get)',
  builder: (cli) => cli.command(getCommand).command(showCommand) as never,
  handler: () => {},
};
