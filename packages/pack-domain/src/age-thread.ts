import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { Encrypter } from 'age-encryption';
import type { EncryptReply, EncryptRequest, ThreadData } from './encryption-thread.js';

/**
 * The program of the encryption thread (encryption-thread.ts): the age library, loaded here while
 * the main thread loads and packs, checks the recipients, then encrypts each archive it is sent.
 */
const { recipients } = workerData as ThreadData;
const encrypter = new Encrypter();
const badRecipient = recipients.find((recipient) => {
  try {
    encrypter.addRecipient(recipient);
    return false;
  } catch {
    return true;
  }
});
parentPort!.postMessage({ kind: 'checked', badRecipient } satisfies EncryptReply);

parentPort!.on('message', ({ id, plain, target }: EncryptRequest) => {
  encryptInto(plain, target).then(
    (written) => parentPort!.postMessage({ kind: 'encrypted', id, ...written } satisfies EncryptReply),
    (error: NodeJS.ErrnoException) => parentPort!.postMessage({ kind: 'failed', id, message: error.message, code: error.code } satisfies EncryptReply),
  );
});

/**
 * `plain` encrypted into `target` (created, mode 0600: it holds the domain key), fsynced; its size
 * and SHA-256 counted as it is written, so that it is never read back.
 */
async function encryptInto(plain: string, target: string): Promise<{ bytes: number; sha256: string }> {
  const encrypted = await encrypter.encrypt(Readable.toWeb(createReadStream(plain)) as ReadableStream<Uint8Array>);
  const hash = createHash('sha256');
  let bytes = 0;
  const handle = await open(target, 'wx', 0o600);
  try {
    for await (const chunk of encrypted as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      bytes += chunk.length;
      for (let written = 0; written < chunk.length; ) written += (await handle.write(chunk, written)).bytesWritten;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { bytes, sha256: hash.digest('hex') };
}
