import { Transform } from 'node:stream';

/**
 * A pass-through that fails with `tooLarge()` as soon as more than `limit` bytes have flowed, so a
 * peer or an archive that lies about a size never fills a disk. `onChunk` sees every chunk that
 * passes (to hash it, say); `passed()` tells how many bytes did.
 */
export function byteLimit(limit: number, tooLarge: () => Error, onChunk?: (chunk: Buffer) => void): Transform & { passed(): number } {
  let passed = 0;
  const transform = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      passed += chunk.length;
      if (passed > limit) {
        callback(tooLarge());
        return;
      }
      onChunk?.(chunk);
      callback(null, chunk);
    },
  });
  return Object.assign(transform, { passed: () => passed });
}
