import JSON5 from 'json5';

/**
 * Renders a configuration as readable JSON5: one top-level section after another, each entry of a
 * map on its own line with its settings inline, as docs/contract.md#configuration shows it.
 */
export function renderDomainConfig(config: object, header?: string): string {
  const lines: string[] = [];
  if (header) lines.push(...header.split('\n').map((line) => `// ${line}`.trimEnd()));
  lines.push('{');
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue;
    lines.push(`  ${renderKey(key)}: ${renderSection(value)},`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function renderSection(value: unknown): string {
  if (!isMap(value)) return inline(value);
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '{}';
  if (!entries.some(([, v]) => isMap(v))) return inline(value);
  return `{\n${entries.map(([key, v]) => `    ${renderKey(key)}: ${inline(v)},`).join('\n')}\n  }`;
}

/** One value as the renderer writes it inline: `{ a: 1, b: "x" }`, `[1, 2]`, `"text"`. */
export function renderValue(value: unknown): string {
  return inline(value);
}

function inline(value: unknown): string {
  if (isMap(value)) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return entries.length ? `{ ${entries.map(([key, v]) => `${renderKey(key)}: ${inline(v)}`).join(', ')} }` : '{}';
  }
  if (Array.isArray(value)) return `[${value.map(inline).join(', ')}]`;
  return JSON5.stringify(value, { quote: '"' });
}

function renderKey(key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : JSON.stringify(key);
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
