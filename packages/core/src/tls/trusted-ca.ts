import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { FlotillaError, IntegrityError } from '../errors.js';

/**
 * Reads the first of `files` that exists: the CA certificate a client trusts (a server's pinned
 * copy in its cache, or the domain's own `config/security/ca.crt` on the MASTER's machine).
 * Undefined when none exists; a file that is there but is not a certificate is an error.
 */
export async function readTrustedCa(files: readonly string[]): Promise<string | undefined> {
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new FlotillaError(`cannot read ${file}: ${(error as Error).message}`, undefined, { cause: error });
    }
    try {
      if (!new X509Certificate(text).ca) throw new Error('not a CA certificate');
    } catch (error) {
      throw new IntegrityError(`${file} is not the domain's CA certificate (${(error as Error).message}): restore it from a backup, or remove it to learn the CA again from the MASTER`, { cause: error });
    }
    return text;
  }
  return undefined;
}

/** The domain's CA for a command on the MASTER's machine: it exists once the MASTER has started. */
export async function requireTrustedCa(file: string, domain: string): Promise<string> {
  const ca = await readTrustedCa([file]);
  if (ca === undefined) throw new FlotillaError(`${file} is missing: the domain's CA is created with the domain or at its MASTER's first start (master start ${domain})`);
  return ca;
}
