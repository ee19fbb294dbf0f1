import { readFile } from 'node:fs/promises';
import JSON5 from 'json5';
import {
  ConfigError,
  UsageError,
  editSettings,
  parseDomainConfig,
  renderDomainConfig,
  settingPath,
  writeDomainConfig,
  type MasterConfigChange,
  type DomainConfig,
  type DomainLayout,
  type SettingEdit,
} from '@flotilla/core';

type Raw = Record<string, unknown>;

function isMap(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Own properties only, and set as plain data: whatever a key is named, reading it never reaches the
 * prototype and writing it never replaces one (settingPath refuses the known spellings first).
 */
function own(raw: Raw, key: string): unknown {
  return Object.hasOwn(raw, key) ? raw[key] : undefined;
}

function put(raw: Raw, key: string, value: unknown): void {
  Object.defineProperty(raw, key, { value, writable: true, enumerable: true, configurable: true });
}

function section(raw: Raw, key: string): Raw {
  if (!isMap(own(raw, key))) put(raw, key, {});
  return raw[key] as Raw;
}

function setPath(raw: Raw, dotted: string, value: unknown): void {
  const parts = settingPath(dotted);
  let target = raw;
  for (const part of parts.slice(0, -1)) target = section(target, part);
  put(target, parts.at(-1)!, value);
}

/** Applies one change to the configuration as written (defaults stay implicit). */
function apply(raw: Raw, change: MasterConfigChange): void {
  switch (change.op) {
    case 'set':
      setPath(raw, change.path, change.value);
      return;
    case 'add-server': {
      const servers = section(raw, 'servers');
      if (own(servers, change.server)) throw new UsageError(`server ${change.server} already exists; choose another name`);
      put(servers, change.server, { node: change.node, address: change.address, port: change.port, http: change.http });
      if (change.cluster) {
        const clusters = section(raw, 'clusters');
        if (!isMap(own(clusters, change.cluster))) put(clusters, change.cluster, { servers: [] });
        const cluster = clusters[change.cluster] as Raw;
        cluster.servers = [...((cluster.servers as string[]) ?? []), change.server];
      }
      return;
    }
    case 'remove-server': {
      const servers = section(raw, 'servers');
      if (!own(servers, change.server)) throw new UsageError(`server ${change.server} is not defined (servers: ${Object.keys(servers).join(', ') || 'none'})`);
      delete servers[change.server];
      for (const cluster of Object.values(section(raw, 'clusters'))) {
        if (isMap(cluster) && Array.isArray(cluster.servers)) cluster.servers = cluster.servers.filter((s) => s !== change.server);
      }
      return;
    }
    case 'add-cluster': {
      const clusters = section(raw, 'clusters');
      if (own(clusters, change.cluster)) throw new UsageError(`cluster ${change.cluster} already exists; choose another name`);
      put(clusters, change.cluster, { servers: change.servers });
      return;
    }
    case 'deploy':
      put(section(raw, 'applications'), change.name, { context: change.context, targets: change.targets });
      return;
    case 'undeploy': {
      const applications = section(raw, 'applications');
      if (!own(applications, change.name)) {
        throw new UsageError(`application ${change.name} is not deployed (applications: ${Object.keys(applications).join(', ') || 'none'})`);
      }
      delete applications[change.name];
      return;
    }
    case 'set-backup-policy': {
      if (!isMap(change.policy)) throw new UsageError('set-backup-policy needs a "policy" object such as { "onBoot": true }');
      // Only the settings given change; the schema then checks them with the rest (node defined, keep range).
      Object.assign(section(raw, 'backup'), change.policy);
      return;
    }
    default:
      throw new UsageError(`unknown configuration change "${(change as { op?: unknown }).op}" (known: set, add-server, remove-server, add-cluster, deploy, undeploy, set-backup-policy)`);
  }
}

/** The settings a change sets, when it only sets values (not adds or removes entries). */
function inPlace(change: MasterConfigChange): SettingEdit[] | undefined {
  if (change.op === 'set') return [{ path: settingPath(change.path), value: change.value }];
  if (change.op === 'set-backup-policy' && isMap(change.policy)) {
    return Object.entries(change.policy).map(([key, value]) => ({ path: ['backup', key], value }));
  }
  return undefined;
}

/**
 * Validates a change against the whole configuration and, when it holds, writes the new
 * configuration atomically with the old one kept in history. A refused change touches nothing.
 */
export async function changeConfig(
  layout: DomainLayout,
  change: MasterConfigChange,
  /** Runs once the change is known valid, before it is written: a deploy puts its files in place. */
  beforeWrite?: () => Promise<void>,
): Promise<DomainConfig> {
  const original = await readFile(layout.configFile, 'utf8');
  const raw = JSON5.parse(original) as Raw;
  apply(raw, change);
  // A change to settings already written is made in place, comments and all; others re-render.
  const edits = inPlace(change);
  const text =
    (edits && editSettings(original, edits)) ||
    renderDomainConfig(raw, `Flotilla domain ${layout.name}. Reference: docs/configuration.md`);
  let config: DomainConfig;
  try {
    config = parseDomainConfig(text, { file: 'domain.json5 (after the change)', expectedName: layout.name });
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(`the change was refused, it would make the configuration invalid:\n${error.message}`);
    throw error;
  }
  await beforeWrite?.();
  await writeDomainConfig(layout, text);
  return config;
}
