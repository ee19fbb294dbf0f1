import type { ServerResponse } from 'node:http';

/**
 * Carried by every console answer: scripts and styles only from the console itself (no inline
 * code, so injected text can never run), no framing, and no Referer, which would carry a login
 * link's token to wherever the page links.
 */
export const CONSOLE_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A short page for a browser that is not logged in: what happened and the command that helps. */
export function sendRefusal(response: ServerResponse, domain: string, why: string): void {
  const command = `master console-url ${domain}`;
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Flotilla console: log in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/console/style.css"></head>
<body class="refusal"><main>
<h1>Flotilla console of ${escapeHtml(domain)}</h1>
<p>${escapeHtml(why)}</p>
<p>On the MASTER's machine, run <code>${escapeHtml(command)}</code> and open the link it prints.</p>
</main></body></html>
`;
  response.writeHead(401, { ...CONSOLE_HEADERS, 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
