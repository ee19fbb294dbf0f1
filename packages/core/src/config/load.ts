import { readFile } from 'node:fs/promises';
import JSON5 from 'json5';
import { closest } from 'fastest-levenshtein';
import type { z } from 'zod';
import { UsageError } from '../errors.js';
import { LocationMap, formatSettingPath, type Position, type SettingPath } from './locations.js';
import { checkReferences, type ConfigProblem } from './references.js';
import { DomainConfigSchema, type DomainConfig } from './schema.js';

/** One error in a configuration file, with everything needed to find and fix it. */
export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  /** `servers.server2.node`; `(top level)` for the document itself. */
  setting: string;
  message: string;
}

export function formatConfigIssue(issue: ConfigIssue): string {
  return `${issue.file}:${issue.line}:${issue.column} ${issue.setting}: ${issue.message}`;
}

/** The configuration could not be loaded; nothing of it was used. Exit code 2. */
export class ConfigError extends UsageError {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map(formatConfigIssue).join('\n'));
  }
}

export interface ParseOptions {
  /** The name shown in errors: the file's path. */
  file: string;
  /** The domain directory's name, which `name` must match. */
  expectedName?: string;
}

/**
 * Parses and validates a domain configuration. It either returns a complete configuration, every
 * default filled in, or throws a ConfigError listing every problem found: never a half-loaded one.
 */
export function parseDomainConfig(text: string, options: ParseOptions): DomainConfig {
  const file = options.file;
  let raw: unknown;
  try {
    raw = JSON5.parse(text);
  } catch (error) {
    const syntax = error as SyntaxError & { lineNumber?: number; columnNumber?: number };
    const message = syntax.message.replace(/^JSON5: /, '').replace(/ at \d+:\d+$/, '');
    let line = syntax.lineNumber ?? 1;
    let column = syntax.columnNumber ?? 1;
    if (column === 0) {
      // json5 places an unexpected line break at column 0 of the next line; editors show it at
      // the end of the line that holds it.
      line -= 1;
      column = (text.split('\n')[line - 1]?.length ?? 0) + 1;
    }
    throw new ConfigError([{ file, line, column, setting: '(syntax)', message }]);
  }

  const locations = new LocationMap(text);
  const issueAt = (path: SettingPath, message: string, at: 'key' | 'value' = 'value'): ConfigIssue => {
    const position: Position = locations.find(path, at);
    return { file, ...position, setting: formatSettingPath(path), message };
  };
  const issues: ConfigIssue[] = locations.duplicates.map((duplicate) => ({
    file,
    ...duplicate.at,
    setting: formatSettingPath(duplicate.path),
    message: `duplicate key (first set at line ${duplicate.firstAt.line}); each key may appear once`,
  }));

  const result = DomainConfigSchema.safeParse(raw);
  if (!result.success) {
    for (const problem of result.error.issues.flatMap((issue) => describeSchemaIssue(issue, raw))) {
      issues.push(issueAt(problem.path, problem.message, problem.at));
    }
    throw new ConfigError(sortIssues(issues));
  }

  const config = result.data;
  const problems = checkReferences(config);
  if (options.expectedName !== undefined && config.name !== options.expectedName) {
    problems.push({
      path: ['name'],
      message: `domain name "${config.name}" does not match its directory "${options.expectedName}"; they must be the same`,
    });
  }
  issues.push(...problems.map((problem) => issueAt(problem.path, problem.message, problem.at)));
  if (issues.length) throw new ConfigError(sortIssues(issues));
  return config;
}

/** Reads and validates `domain.json5`; the domain's name is taken from its directory. */
export async function loadDomainConfig(file: string, expectedName?: string): Promise<DomainConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new ConfigError([{ file, line: 1, column: 1, setting: '(file)', message: `cannot read the configuration: ${reason}` }]);
  }
  return parseDomainConfig(text, { file, expectedName });
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return issues.sort((a, b) => a.line - b.line || a.column - b.column);
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function valueAt(root: unknown, path: SettingPath): unknown {
  let value = root;
  for (const part of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[part];
  }
  return value;
}

const TYPE_NAMES: Record<string, string> = {
  object: 'an object',
  array: 'an array',
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  record: 'an object',
};

/** Allowed keys of the strict object at `path`, read from the schema itself so they never drift. */
function allowedKeys(path: SettingPath): string[] {
  let schema: z.ZodType = DomainConfigSchema;
  for (const part of path) {
    schema = unwrap(schema);
    const def = (schema as unknown as { def: Record<string, unknown> }).def;
    if (def.type === 'object') schema = (def.shape as Record<string, z.ZodType>)[part as string]!;
    else if (def.type === 'record') schema = def.valueType as z.ZodType;
    else if (def.type === 'array') schema = def.element as z.ZodType;
    if (!schema) return [];
  }
  const def = (unwrap(schema) as unknown as { def: Record<string, unknown> }).def;
  return def.type === 'object' ? Object.keys(def.shape as object) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema as unknown as { def: Record<string, unknown> };
  while (['default', 'prefault', 'optional', 'nullable'].includes(current.def.type as string)) {
    current = current.def.innerType as typeof current;
  }
  return current as unknown as z.ZodType;
}

function describeSchemaIssue(issue: z.core.$ZodIssue, raw: unknown): ConfigProblem[] {
  const path = issue.path as (string | number)[];
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeys(path);
      return issue.keys.map((key) => {
        const nearest = allowed.length ? closest(key, allowed) : undefined;
        const hint = nearest ? `did you mean "${nearest}"? ` : '';
        return {
          path: [...path, key],
          at: 'key' as const,
          message: `unknown key "${key}" (${hint}allowed: ${allowed.join(', ')})`,
        };
      });
    }
    case 'invalid_type': {
      const value = valueAt(raw, path);
      const expected = TYPE_NAMES[issue.expected];
      if (value === undefined) return [{ path, message: `is required: ${expected ?? issue.message}` }];
      // Without a plain type name (an integer check) the schema's own message says what is allowed.
      const wanted = expected ? `expected ${expected}` : issue.message;
      return [{ path, message: `${wanted}, got ${describeValue(value)}` }];
    }
    case 'invalid_key': {
      const inner = issue.issues[0]?.message ?? 'is not allowed';
      return [{ path, at: 'key', message: `name "${String(path.at(-1))}" ${inner}` }];
    }
    default: {
      const value = valueAt(raw, path);
      const got = value === undefined ? '' : `, got ${describeValue(value)}`;
      return [{ path, message: `${issue.message}${got}` }];
    }
  }
}
