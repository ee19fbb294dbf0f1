/**
 * Runs `work` over `items` with at most `limit` in flight, in order of start. The first failure
 * stops new work from starting and is thrown once the running ones settle.
 */
export async function forEachConcurrent<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const index = next++;
      try {
        await work(items[index]!, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}

/**
 * For long runs of synchronous work (hashing, compressing many small files) inside a server: the
 * returned function lets timers and sockets in once at least `everyMs` have passed since it last
 * did, so a heartbeat or a request never waits longer than that. Cheap to call after every item.
 */
export function eventLoopBreather(everyMs = 10): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (performance.now() - last < everyMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    last = performance.now();
  };
}

/**
 * Runs the tasks given to `run` one at a time, in the order given. What it guarantees:
 * - a task starts only once every task given before it has settled (resolved or rejected), so no
 *   two ever overlap, and each sees what the ones before it did;
 * - each caller gets its own task's result or error, and only its own;
 * - a task that fails (rejects or throws) stops nothing: the next one starts as if it had resolved.
 * It does not time tasks out: one that never settles holds up every task after it.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => {});
    return result;
  }
}
