import { parse as parseAst } from '@humanwhocodes/momoa';

/** A place in the configuration file, 1-based as editors show it. */
export interface Position {
  line: number;
  column: number;
}

export type SettingPath = ReadonlyArray<string | number>;

interface Located {
  key?: Position;
  value: Position;
}

export interface DuplicateKey {
  path: SettingPath;
  at: Position;
  firstAt: Position;
}

type AstNode = { type: string; loc: { start: Position } } & Record<string, unknown>;

/**
 * Where each setting of a JSON5 document stands, so that every error can name its line and column.
 * The values themselves come from the json5 package; this only maps paths to positions (and finds
 * duplicate keys, which json5 silently lets the last one win).
 */
export class LocationMap {
  private readonly places = new Map<string, Located>();
  readonly duplicates: DuplicateKey[] = [];

  constructor(text: string) {
    let document: { body: AstNode };
    try {
      document = parseAst(text, { mode: 'json5' }) as unknown as { body: AstNode };
    } catch {
      return; // json5 accepted the text; without positions errors fall back to the top of the file.
    }
    this.visit(document.body, []);
  }

  private visit(node: AstNode, path: (string | number)[]): void {
    if (node.type === 'Object') {
      const seen = new Map<string, Position>();
      for (const member of node.members as AstNode[]) {
        const nameNode = member.name as AstNode;
        const key = String(nameNode.type === 'Identifier' ? nameNode.name : nameNode.value);
        const valueNode = member.value as AstNode;
        const childPath = [...path, key];
        const keyAt = nameNode.loc.start;
        const first = seen.get(key);
        if (first) this.duplicates.push({ path: childPath, at: keyAt, firstAt: first });
        else seen.set(key, keyAt);
        this.places.set(pathKey(childPath), { key: keyAt, value: valueNode.loc.start });
        this.visit(valueNode, childPath);
      }
    } else if (node.type === 'Array') {
      (node.elements as AstNode[]).forEach((element, index) => {
        const valueNode = element.value as AstNode;
        this.places.set(pathKey([...path, index]), { value: valueNode.loc.start });
        this.visit(valueNode, [...path, index]);
      });
    }
    if (path.length === 0) this.places.set(pathKey([]), { value: node.loc.start });
  }

  /**
   * The position of a setting's value, or of its key when `at` is 'key'. A setting that is missing
   * is reported at the object that should hold it.
   */
  find(path: SettingPath, at: 'key' | 'value' = 'value'): Position {
    for (let length = path.length; length >= 0; length--) {
      const place = this.places.get(pathKey(path.slice(0, length)));
      if (!place) continue;
      if (length === path.length && at === 'key' && place.key) return place.key;
      return place.value;
    }
    return { line: 1, column: 1 };
  }
}

function pathKey(path: SettingPath): string {
  return JSON.stringify(path);
}

/** `servers.server2.node`, `clusters.c1.servers[1]`, `servers["web.1"].port`. */
export function formatSettingPath(path: SettingPath): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(part)) text += text ? `.${part}` : part;
    else text += `[${JSON.stringify(part)}]`;
  }
  return text || '(top level)';
}
