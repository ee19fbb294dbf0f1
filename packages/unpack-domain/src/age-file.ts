import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { IntegrityError, UsageError } from '@flotilla/core/backup';
import { unpackMessages } from './messages.js';

/** The first line of every file in the age format (age-encryption.org/v1): how an encrypted backup is told apart. */
const AGE_MAGIC = 'age-encryption.org/v1\n';

/** The extension an encrypted backup takes after `.zip`, as the age tool names its output. */
export const AGE_EXTENSION = '.age';

/** Whether `file` is in the age format, from its first bytes. */
export async function isAgeFile(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(AGE_MAGIC.length);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead).toString('latin1') === AGE_MAGIC;
  } finally {
    await handle.close();
  }
}

/** The library loads only when a backup is encrypted or decrypted: every other run starts without it. */
const age = () => import('age-encryption');

/** Checks recipients (`age1…` public keys) before any work starts: a typo is a usage error, not a lost backup. */
export async function checkRecipients(recipients: readonly string[], what: string): Promise<void> {
  const { Encrypter } = await age();
  for (const recipient of recipients) {
    try {
      new Encrypter().addRecipient(recipient);
    } catch {
      throw new UsageError(unpackMessages.badRecipient(what, recipient));
    }
  }
}

/**
 * Decrypts the age file `encrypted` with the identities of `identityFile` (an age-keygen file:
 * `AGE-SECRET-KEY-1…` lines, `#` comments) into `target` (created, mode 0600), streamed. An
 * identity that matches no recipient, or a tampered file, is an IntegrityError (exit 4).
 */
export async function decryptFile(encrypted: string, target: string, identityFile: string): Promise<void> {
  const { Decrypter } = await age();
  const decrypter = new Decrypter();
  for (const identity of await readIdentities(identityFile)) {
    try {
      decrypter.addIdentity(identity);
    } catch {
      throw new UsageError(unpackMessages.badIdentityFile(identityFile, 'a line is not an age identity (AGE-SECRET-KEY-1…)'));
    }
  }
  let plain: ReadableStream<Uint8Array>;
  try {
    plain = await decrypter.decrypt(Readable.toWeb(createReadStream(encrypted)) as ReadableStream<Uint8Array>);
  } catch (error) {
    throw new IntegrityError(unpackMessages.cannotDecrypt(encrypted, identityFile, (error as Error).message), { cause: error });
  }
  // The payload is authenticated chunk by chunk: a tampered chunk fails the stream midway.
  await writeStream(plain, target).catch((error: Error) => {
    throw new IntegrityError(unpackMessages.cannotDecrypt(encrypted, identityFile, error.message), { cause: error });
  });
}

async function readIdentities(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch((error: Error) => {
    throw new UsageError(unpackMessages.badIdentityFile(file, error.message));
  });
  const identities = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (identities.length === 0) throw new UsageError(unpackMessages.badIdentityFile(file, 'it holds no identity'));
  return identities;
}

async function writeStream(stream: ReadableStream<Uint8Array>, target: string): Promise<void> {
  const handle = await open(target, 'wx', 0o600);
  try {
    for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
      for (let written = 0; written < chunk.length; ) written += (await handle.write(chunk, written)).bytesWritten;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}
