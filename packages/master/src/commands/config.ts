import JSON5 from 'json5';
import {
  UsageError,
  commandContext,
  formatSettingPath,
  renderDomainConfig,
  settingPath,
  type CommandModule,
  type GlobalOptions,
  type MasterOptions,
  masterOptions,
} from '@flotilla/core';
import { readDomainConfig, submitChange } from '../master-client.js';

interface ConfigOptions extends GlobalOptions, MasterOptions {
  domain: string;
}

interface ConfigGetOptions extends ConfigOptions {
  path: string;
}

interface ConfigSetOptions extends ConfigGetOptions {
  value: string;
}

const showCommand: CommandModule<GlobalOptions, ConfigOptions> = {
  command: '$0 <domain>',
  describe: 'Print the validated configuration (offline, or the MASTER\'s with --master; never the key)',
  builder: (cli) => masterOptions(cli).positional('domain', { type: 'string', demandOption: true }) as never,
  handler: async (options) => {
    const context = commandContext(options);
    const config = await readDomainConfig(context.home, options);
    context.result(config, () => renderDomainConfig(config).trimEnd());
  },
};

const getCommand: CommandModule<GlobalOptions, ConfigGetOptions> = {
  command: 'get <domain> <path>',
  describe: 'Print one setting, e.g. backup.keep or servers.server1.http',
  builder: (cli) =>
    masterOptions(cli)
      .positional('domain', { type: 'string', demandOption: true })
      .positional('path', { type: 'string', demandOption: true, describe: 'Dotted path of the setting' }) as never,
  handler: async (options) => {
    const context = commandContext(options);
    const config = await readDomainConfig(context.home, options);
    const value = settingAt(config, options.path);
    context.result(value, () => (typeof value === 'string' ? value : JSON5.stringify(value, { quote: '"' })));
  },
};

/**
 * A value as typed on the command line: JSON5 (`20`, `true`, `"x"`, `{ a: 1 }`), or, when it is
 * not JSON5, the text itself, so `master config set d master.address 10.0.0.5` needs no quotes.
 */
export function parseValueArgument(text: string): unknown {
  try {
    return JSON5.parse(text);
  } catch {
    return text;
  }
}

const setCommand: CommandModule<GlobalOptions, ConfigSetOptions> = {
  command: 'set <domain> <path> <value>',
  describe: 'Change one setting through the MASTER, e.g. backup.keep 20',
  builder: (cli) =>
    masterOptions(cli)
      .positional('domain', { type: 'string', demandOption: true })
      .positional('path', { type: 'string', demandOption: true, describe: 'Dotted path of the setting' })
      .positional('value', { type: 'string', demandOption: true, describe: 'A JSON5 value' }) as never,
  handler: async (options) => {
    const context = commandContext(options);
    // Refused here, before the MASTER is asked, with the same message the MASTER would give.
    settingPath(options.path);
    const change = { op: 'set', path: options.path, value: parseValueArgument(String(options.value)) } as const;
    await submitChange(context, options, change, `${options.path} set`);
  },
};

/** Walks a dotted path (`servers.server1.port`); the error lists what exists where the walk stopped. */
export function settingAt(root: unknown, dotted: string): unknown {
  const parts = settingPath(dotted);
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
  describe: 'Print the configuration (config), read one setting (config get) or change one (config set)',
  builder: (cli) => cli.command(getCommand).command(setCommand).command(showCommand) as never,
  handler: () => {},
};
