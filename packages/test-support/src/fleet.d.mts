// Types of fleet.mjs (plain JavaScript, so that the bench can run it without a build).
export declare class Fleet {
  readonly errors: Map<string, number>;
  readonly masterUps: number;
  readonly reports: number;
  static create(home: string, domain: string, servers?: string[]): Promise<Fleet>;
  start(): void;
  readonly attached: number;
  at(generation: number): number;
  allAttachedSince(since: number): number | undefined;
  allSynced(generation: number): number | undefined;
  stop(): Promise<void>;
}
export declare function until<T>(what: string, check: () => T | Promise<T>, timeoutMs: number, intervalMs?: number): Promise<T>;
