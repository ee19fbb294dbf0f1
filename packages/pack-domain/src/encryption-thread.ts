import { Worker } from 'node:worker_threads';

/** What the encryption thread is started with (age-thread.ts). */
export interface ThreadData {
  recipients: readonly string[];
}

export interface EncryptRequest {
  id: number;
  plain: string;
  target: string;
}

export type EncryptReply =
  | { kind: 'checked'; badRecipient: string | undefined }
  | { kind: 'encrypted'; id: number; bytes: number; sha256: string }
  | { kind: 'failed'; id: number; message: string; code: string | undefined };

export interface EncryptedFile {
  bytes: number;
  sha256: string;
}

/**
 * Encryption in the age format for a set of recipients, on a thread of its own: the library (pure
 * JavaScript, 150 ms to load, some 30 MB/s to encrypt) then costs the pack almost nothing, as it
 * loads while the main thread loads the packing code, and encrypts while the main thread verifies
 * the archive. It is the age library's own Encrypter, as before: the age tool decrypts the result.
 * This module loads nothing but the thread, so that it can start before anything else loads.
 */
export class EncryptionThread {
  private readonly worker: Worker;
  private readonly checked: Promise<string | undefined>;
  private readonly pending = new Map<number, { resolve(file: EncryptedFile): void; reject(error: Error): void }>();
  private nextId = 0;
  private failure: Error | undefined;

  private constructor(readonly recipients: readonly string[]) {
    this.worker = new Worker(new URL('./age-thread.js', import.meta.url), { workerData: { recipients } satisfies ThreadData });
    this.checked = new Promise((resolve, reject) => {
      this.worker.on('message', (reply: EncryptReply) => {
        if (reply.kind === 'checked') return resolve(reply.badRecipient);
        const job = this.pending.get(reply.id);
        this.pending.delete(reply.id);
        if (reply.kind === 'encrypted') job?.resolve({ bytes: reply.bytes, sha256: reply.sha256 });
        else job?.reject(Object.assign(new Error(reply.message), { code: reply.code }));
      });
      const fail = (failure: Error) => {
        this.failure ??= failure;
        reject(this.failure);
        for (const job of this.pending.values()) job.reject(this.failure);
        this.pending.clear();
      };
      this.worker.on('error', (error) => fail(new Error(`the encryption thread failed: ${error.message}`, { cause: error })));
      this.worker.on('exit', (code) => fail(new Error(`the encryption thread ended (exit code ${code})`)));
    });
    this.checked.catch(() => {}); // awaited by check(); a failure before then is not unhandled
  }

  static start(recipients: readonly string[]): EncryptionThread {
    return new EncryptionThread(recipients);
  }

  /**
   * Throws the usage error of unpack-domain's checkRecipients when a recipient is not an age
   * public key (`what` names the option); only that failure loads unpack-domain here.
   */
  async check(what: string): Promise<void> {
    if ((await this.checked) === undefined) return;
    const { checkRecipients } = await import('@flotilla/unpack-domain');
    await checkRecipients(this.recipients, what);
  }

  /** Encrypts the file `plain` into `target` (created, mode 0600), fsynced; `plain` must not change meanwhile. */
  async encrypt(plain: string, target: string): Promise<EncryptedFile> {
    await this.check('recipient');
    if (this.failure) throw this.failure;
    const id = this.nextId++;
    const done = new Promise<EncryptedFile>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.worker.postMessage({ id, plain, target } satisfies EncryptRequest);
    return done;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
