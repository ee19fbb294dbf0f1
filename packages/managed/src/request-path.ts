/**
 * The path of a request as the proxy routes it (docs/applications.md, "Paths"): dot segments
 * removed as RFC 3986 section 5.2.4 says, percent-encoded unreserved characters decoded and the
 * other escapes upper-cased (section 6.2.2), so that `/express/../fastify/` is `/fastify/` and
 * `/h%65llo` is `/hello` before a context is chosen. What a normaliser cannot make safe is refused:
 * a `..` that climbs above the root, a dot segment hidden behind percent-encoding (`%2e%2e`,
 * `..%2f`), a broken escape.
 */
export type RequestPath = { path: string; query: string } | { refused: string };

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
/** An absolute-form target (`GET http://host/path`) names the same path as its origin form. */
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;
/**
 * A path of characters that need no decoding and with no dot segment is normal already: most
 * requests are, and the proxy answers them without splitting and rebuilding the path.
 */
const PLAIN_PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;

function normaliseEscapes(segment: string): string {
  return segment.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : escape.toUpperCase();
  });
}

/** True when decoding would turn the path into one with a `.` or `..` segment the proxy never saw. */
function hidesDotSegment(path: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return true; // an escape that is not UTF-8: no application can read it the way we do
  }
  return decoded.split(/[/\\]/).some((segment) => segment === '.' || segment === '..');
}

export function normaliseRequestPath(target: string): RequestPath {
  const originForm = target.startsWith('/') ? target : target.replace(ABSOLUTE_FORM, '') || '/';
  if (!originForm.startsWith('/')) return { refused: 'the request target is not a path beginning with /' };
  const queryAt = originForm.indexOf('?');
  const raw = queryAt === -1 ? originForm : originForm.slice(0, queryAt);
  const query = queryAt === -1 ? '' : originForm.slice(queryAt);
  if (PLAIN_PATH.test(raw) && !DOT_SEGMENT.test(raw)) return { path: raw, query };
  if (/%(?![0-9A-Fa-f]{2})/.test(raw)) return { refused: 'the path has a malformed percent-escape' };

  const segments = raw.slice(1).split('/');
  const kept: string[] = [];
  for (const [index, segment] of segments.entries()) {
    const last = index === segments.length - 1;
    if (segment === '.' || segment === '..') {
      if (segment === '..' && kept.pop() === undefined) return { refused: 'the path climbs above the root with ..' };
      if (last) kept.push(''); // `/a/b/..` is the directory `/a/`
      continue;
    }
    kept.push(normaliseEscapes(segment));
  }
  const path = `/${kept.join('/')}`;
  if (hidesDotSegment(path)) return { refused: 'the path hides a . or .. segment behind percent-encoding' };
  return { path, query };
}
