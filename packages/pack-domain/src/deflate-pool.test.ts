import { randomBytes } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DeflatePool } from './deflate-pool.js';

describe('the deflate pool', () => {
  it('deflates every batch into raw streams that inflate back, on the workers and, when they are behind, on the caller', async () => {
    const pool = new DeflatePool(6, 1);
    try {
      const batches = Array.from({ length: 12 }, (_, batch) =>
        Array.from({ length: 20 }, (_, file) => Buffer.concat([Buffer.from(`batch ${batch} file ${file} `.repeat(50)), randomBytes(file)])),
      );
      // All handed out at once: the single worker takes two, and the caller helps with the rest.
      const deflating = batches.map((batch) => pool.deflate(batch));
      let helped = 0;
      while (pool.help()) helped++;
      expect(helped).toBe(batches.length - 2);
      const results = await Promise.all(deflating);
      for (const [index, deflated] of results.entries()) {
        expect(deflated).toHaveLength(20);
        deflated.forEach((data, file) => expect(inflateRawSync(data).equals(batches[index]![file]!)).toBe(true));
      }
    } finally {
      await pool.close();
    }
  });
});
