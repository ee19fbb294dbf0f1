import { isIP } from 'node:net';

/** Names of domains, servers, nodes, clusters and applications (SPEC section 4). */
export const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
export const NAME_RULE = '1 to 64 characters from A-Z a-z 0-9 _ . - (not "." or "..")';

/** "." and ".." fit the character rule but would name a parent directory on disk. */
export function isValidName(name: string): boolean {
  return NAME_PATTERN.test(name) && name !== '.' && name !== '..';
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
