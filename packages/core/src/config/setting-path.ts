import { UsageError } from '../errors.js';

/**
 * Property names that lead from any object to JavaScript's own machinery (`x.__proto__` is
 * Object.prototype, `x.constructor.prototype` too): a setting path that used one would change
 * every object of the process instead of one setting.
 */
const UNSAFE_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Refuses a path (as segments) that has an empty or unsafe segment; `shown` is how the user wrote it. */
export function checkSettingSegments(segments: readonly string[], shown: string): void {
  if (segments.length === 0 || segments.some((segment) => segment === '')) {
    throw new UsageError(`"${shown}" is not a setting path (e.g. backup.keep)`);
  }
  const unsafe = segments.find((segment) => UNSAFE_SEGMENTS.has(segment));
  if (unsafe !== undefined) {
    throw new UsageError(`"${shown}" is not a setting path: "${unsafe}" is never a setting name (it would reach JavaScript's object internals, not the configuration)`);
  }
}

/** The segments of a dotted setting path (`servers.server1.port`), checked: exit 2 naming the bad segment. */
export function settingPath(dotted: string): string[] {
  const segments = dotted.split('.');
  checkSettingSegments(segments, dotted);
  return segments;
}
