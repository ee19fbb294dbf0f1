import { isIP } from 'node:net';

/** Names of domains, servers, nodes, clusters and applications (docs/contract.md#words). */
export const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
export const NAME_RULE = '1 to 64 characters from A-Z a-z 0-9 _ . - (not "." or "..")';

/** "." and ".." fit the character rule but would name a parent directory on disk. */
export function isValidName(name: string): boolean {
  return NAME_PATTERN.test(name) && name !== '.' && name !== '..';
}

/**
 * Why `name` may not name an application, or undefined when it may: a name rule first, and no
 * leading `.`, which the tools' own staging and retired copies in apps/ use (`.deploy-….tmp`): an
 * application so named would be left out of every generation and backup.
 */
export function applicationNameProblem(name: string): string | undefined {
  if (!isValidName(name)) return `must be ${NAME_RULE}`;
  if (name.startsWith('.')) return 'must not start with "." (such names are the tools\' own staging directories in apps/)';
  return undefined;
}

/** The server's own paths (`/-/health`) live under this prefix: no application context may reach it. */
export const SERVER_PATH_PREFIX = '/-';

/**
 * Why `context` is not a normalised application context, or undefined when it is: `/` or a path
 * of plain segments with no trailing `/`, no empty, `.` or `..` segment, and not `/-` or below it.
 */
export function contextProblem(context: string): string | undefined {
  if (!/^\/[A-Za-z0-9._~\/-]*$/.test(context)) return 'must be a path that starts with "/" and uses A-Z a-z 0-9 . _ ~ - /';
  if (context === '/') return undefined;
  if (context.endsWith('/')) return `must not end with "/" (write ${context.replace(/\/+$/, '') || '/'})`;
  const segments = context.slice(1).split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) return 'must not hold an empty, "." or ".." segment';
  if (segments[0] === SERVER_PATH_PREFIX.slice(1)) return `must not be ${SERVER_PATH_PREFIX} or below it (the server's own paths, such as ${SERVER_PATH_PREFIX}/health)`;
  return undefined;
}

const HOSTNAME_PATTERN = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
export const ADDRESS_RULE = 'an IPv4 or IPv6 address or a host name';

export function isValidAddress(address: string): boolean {
  if (isIP(address) !== 0) return true;
  // A last label of digits is a mistyped IPv4 address (300.1.1.1), not a host name.
  return HOSTNAME_PATTERN.test(address) && !/(^|\.)\d+$/.test(address);
}

/** Listening on every interface: such a listener clashes with any other on the same node and port. */
export function isWildcardAddress(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

export function isMulticastIPv4(address: string): boolean {
  if (isIP(address) !== 4) return false;
  const first = Number(address.split('.')[0]);
  return first >= 224 && first <= 239;
}
