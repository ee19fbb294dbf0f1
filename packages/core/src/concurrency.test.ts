import { describe, expect, it } from 'vitest';
import { SerialQueue } from './concurrency.js';

describe('SerialQueue', () => {
  it('runs tasks one at a time, in the order given', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    let running = 0;
    const task = (name: string, ticks: number) => async () => {
      running += 1;
      expect(running).toBe(1);
      log.push(`start ${name}`);
      for (let i = 0; i < ticks; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
      log.push(`end ${name}`);
      running -= 1;
      return name;
    };
    const results = await Promise.all([queue.run(task('a', 3)), queue.run(task('b', 1)), queue.run(task('c', 0))]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('gives a failing task its own error and runs the next ones as usual', async () => {
    const queue = new SerialQueue();
    const rejected = queue.run(async () => {
      throw new Error('first failed');
    });
    const thrown = queue.run((): Promise<string> => {
      throw new Error('second threw');
    });
    const after = queue.run(async () => 'third ran');
    await expect(rejected).rejects.toThrow('first failed');
    await expect(thrown).rejects.toThrow('second threw');
    await expect(after).resolves.toBe('third ran');
  });

  it('starts a later task only once the one before has settled, even when it fails', async () => {
    const queue = new SerialQueue();
    let release!: () => void;
    const first = queue.run(() => new Promise<void>((_, reject) => (release = () => reject(new Error('late failure')))));
    let secondStarted = false;
    const second = queue.run(async () => {
      secondStarted = true;
    });
    for (let i = 0; i < 5; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(secondStarted).toBe(false);
    release();
    await expect(first).rejects.toThrow('late failure');
    await second;
    expect(secondStarted).toBe(true);
  });
});
