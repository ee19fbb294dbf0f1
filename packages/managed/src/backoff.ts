/**
 * Retry delays for finding the MASTER again: doubling from BASE, capped at CAP (docs/contract.md#synchronisation-and-the-cache:
 * at most 5 s apart), with jitter so that a domain's servers do not all knock at the same instant.
 */
export const RETRY_BASE_MS = 200;
export const RETRY_CAP_MS = 5_000;
/** Up to this share of a delay is random. */
const JITTER = 0.3;

export function retryDelay(attempt: number, random = Math.random): number {
  const plain = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** attempt);
  return Math.round(plain * (1 - JITTER * random()));
}
