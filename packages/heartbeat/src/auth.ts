import { createHmac, timingSafeEqual } from 'node:crypto';
import { HEARTBEAT_MAC_BYTES } from '@flotilla/core';

/**
 * Heartbeats are authenticated with HMAC-SHA256 keyed with the domain key (docs/contract.md#heartbeats-and-restarts): only a
 * holder of the key can make a packet that a member accepts. Packets are not encrypted: they hold
 * nothing secret, and reading them helps an operator debug.
 */
export function sign(key: Buffer, data: Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** Constant-time comparison, so the time taken tells a forger nothing about a correct MAC. */
export function verify(key: Buffer, data: Buffer, mac: Buffer): boolean {
  if (mac.length !== HEARTBEAT_MAC_BYTES) return false;
  return timingSafeEqual(sign(key, data), mac);
}
