import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { FlotillaError, UsageError } from './errors.js';
import { writeFileAtomic } from './atomic-file.js';

/** 32 random bytes, as docs/contract.md#words says; stored as 64 hex characters so it survives copy and paste. */
export const DOMAIN_KEY_BYTES = 32;

export async function createDomainKey(path: string): Promise<void> {
  await writeDomainKey(path, newDomainKey());
}

export function newDomainKey(): Buffer {
  return randomBytes(DOMAIN_KEY_BYTES);
}

/** Writes a key file (0600) atomically: a crash leaves the old key or the new one, never a mix. */
export async function writeDomainKey(path: string, key: Uint8Array): Promise<void> {
  await writeFileAtomic(path, `${Buffer.from(key).toString('hex')}\n`, { mode: 0o600 });
}

/** A key as it travels inside TLS to a server during a rotation (key-messages.ts). */
export const DOMAIN_KEY_HEX = /^[0-9a-f]{64}$/;

/** Reads a domain key file; the key itself never appears in an error message. */
export async function readDomainKey(path: string): Promise<Buffer> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new FlotillaError(`cannot read the domain key ${path}: ${(error as Error).message}`, undefined, {
      cause: error,
    });
  }
  const hex = text.trim();
  if (!/^[0-9a-f]{64}$/i.test(hex)) {
    throw new UsageError(`${path} is not a domain key: expected ${DOMAIN_KEY_BYTES * 2} hexadecimal characters`);
  }
  return Buffer.from(hex, 'hex');
}
