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
<link rel="icon" href="/console/favicon.svg" type="image/svg+xml">
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

/**
 * After a login: on to the console by a page of the console's own origin, not by a redirect. A
 * login link opened from another site (a chat, a web mail) makes a cross-site redirect chain, on
 * which the browser withholds a SameSite=Strict cookie; a navigation the console's page starts is
 * same-site, so the new session cookie goes with it.
 */
export function sendContinue(response: ServerResponse, location: string): void {
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Flotilla console</title>
<meta http-equiv="refresh" content="0; url=${escapeHtml(location)}">
<link rel="icon" href="/console/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/console/style.css"></head>
<body class="refusal"><main><p><a href="${escapeHtml(location)}">Open the console</a></p></main></body></html>
`;
  response.writeHead(200, { ...CONSOLE_HEADERS, 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
