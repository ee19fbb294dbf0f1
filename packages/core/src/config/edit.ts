import { parse as parseAst } from '@humanwhocodes/momoa';
import { renderValue } from './render.js';
import { checkSettingSegments } from './setting-path.js';

export interface SettingEdit {
  path: readonly string[];
  value: unknown;
}

type AstNode = { type: string; range: [number, number] } & Record<string, unknown>;

function find(node: AstNode, path: readonly string[]): AstNode | undefined {
  let current: AstNode | undefined = node;
  for (const key of path) {
    if (current?.type !== 'Object') return undefined;
    const member = (current.members as AstNode[]).findLast((m) => {
      const name = m.name as AstNode;
      return (name.type === 'Identifier' ? name.name : name.value) === key;
    });
    current = member?.value as AstNode | undefined;
  }
  return current;
}

/**
 * Changes settings in place in a JSON5 text, so that the operator's comments and layout survive a
 * `config set`. Returns undefined when a setting is not written in the text yet: the caller then
 * renders the whole configuration instead. A path with an unsafe segment is a UsageError.
 */
export function editSettings(text: string, edits: readonly SettingEdit[]): string | undefined {
  let document: { body: AstNode };
  try {
    document = parseAst(text, { mode: 'json5', ranges: true }) as unknown as { body: AstNode };
  } catch {
    return undefined;
  }
  const ranges: Array<{ range: [number, number]; value: unknown }> = [];
  for (const edit of edits) {
    checkSettingSegments(edit.path, edit.path.join('.'));
    const node = find(document.body, edit.path);
    if (!node) return undefined;
    ranges.push({ range: node.range, value: edit.value });
  }
  let edited = text;
  for (const { range, value } of ranges.sort((a, b) => b.range[0] - a.range[0])) {
    edited = `${edited.slice(0, range[0])}${renderValue(value)}${edited.slice(range[1])}`;
  }
  return edited;
}
