import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The one module that knows where every file lives (docs/contract.md#files). Everything else asks it, so a
 * layout change is made here once. Paths inside a domain are always derived from the home given at
 * run time: nothing on disk stores the home's absolute path, so a domain directory copied anywhere
 * keeps working.
 */

/** `--home DIR`, else `$FLOTILLA_HOME`, else `~/.flotilla`; always absolute. */
export function resolveHome(option?: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = option || env.FLOTILLA_HOME || join(homedir(), '.flotilla');
  return resolve(chosen);
}

export function domainsDir(home: string): string {
  return join(home, 'domains');
}

/** The files of one domain directory, wherever it stands (a staging directory during a restore, say). */
export interface DomainFiles {
  dir: string;
  configDir: string;
  configFile: string;
  historyDir: string;
  /** The MASTER's generation counter (see generation-file.ts). */
  generationFile: string;
  securityDir: string;
  keyFile: string;
  /** The domain's certificate authority (docs/security.md): its certificate, and its key (0600). */
  caCertFile: string;
  caKeyFile: string;
  appsDir: string;
  serversDir: string;
  /** Default backup directory; `backup.dir` in the configuration may name another. */
  backupsDir: string;
}

export function domainFiles(dir: string): DomainFiles {
  const configDir = join(dir, 'config');
  const securityDir = join(configDir, 'security');
  return {
    dir,
    configDir,
    configFile: join(configDir, 'domain.json5'),
    historyDir: join(configDir, '.history'),
    generationFile: join(configDir, 'generation.json'),
    securityDir,
    keyFile: join(securityDir, 'domain.key'),
    caCertFile: join(securityDir, 'ca.crt'),
    caKeyFile: join(securityDir, 'ca.key'),
    appsDir: join(dir, 'apps'),
    serversDir: join(dir, 'servers'),
    backupsDir: join(dir, 'backups'),
  };
}

export interface DomainLayout extends DomainFiles {
  home: string;
  name: string;
  /** Default output of pack-domain and input of unpack-domain. */
  packedZip: string;
}

export function domainLayout(home: string, domain: string): DomainLayout {
  return {
    ...domainFiles(join(domainsDir(home), domain)),
    home,
    name: domain,
    packedZip: join(domainsDir(home), `${domain}_packed.zip`),
  };
}

export interface ServerLayout {
  dir: string;
  cacheDir: string;
  logsDir: string;
  /** The server's own log when it runs detached (a foreground server logs to its stderr). */
  logFile: string;
  pidFile: string;
  stateFile: string;
  addressFile: string;
  lockFile: string;
}

export function serverLayout(domain: DomainFiles, server: string): ServerLayout {
  const dir = join(domain.serversDir, server);
  return {
    dir,
    cacheDir: join(dir, 'cache'),
    logsDir: join(dir, 'logs'),
    logFile: join(dir, 'logs', `${server}.log`),
    pidFile: join(dir, 'server.pid'),
    stateFile: join(dir, 'state.json'),
    addressFile: join(dir, 'address.json'),
    lockFile: join(dir, 'server.lock'),
  };
}

/** The two output streams of an application, each logged to its own file. */
export const APP_STREAMS = ['stdout', 'stderr'] as const;
export type AppStream = (typeof APP_STREAMS)[number];

/** `servers/<server>/logs/app-<app>.stdout.log` and `.stderr.log`: one application's output, timestamped. */
export function appLogFile(server: ServerLayout, app: string, stream: AppStream): string {
  return join(server.logsDir, `app-${app}.${stream}.log`);
}
