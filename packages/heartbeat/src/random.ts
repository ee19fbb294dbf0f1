/** Random choices of a membership, from one source (seeded in tests, so a run can be repeated). */
export class Random {
  constructor(readonly next: () => number) {}

  /** Up to `count` distinct items of `items`, chosen uniformly; `items` is reordered. */
  sample<T>(items: T[], count: number): T[] {
    const n = Math.min(count, items.length);
    // A partial Fisher–Yates: only the first n places are drawn, so a fan-out of 3 costs 3 draws.
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(this.next() * (items.length - i));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items.slice(0, n);
  }

  /** One item, or undefined when there is none. */
  pick<T>(items: readonly T[]): T | undefined {
    return items.length ? items[Math.floor(this.next() * items.length)] : undefined;
  }
}
