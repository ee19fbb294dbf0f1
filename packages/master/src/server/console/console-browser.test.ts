import { cp, mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { killPid, onCleanup, repoRoot, run, tempHome } from '@flotilla/test-support';
import { createTestDomain, startManaged, startMaster } from '@flotilla/test-support/domain';
import { CHROMIUM, consoleBrowser, hasChromium } from '@flotilla/test-support/browser';

const ARTIFACTS = join(repoRoot, 'test-results', 'console');

if (!hasChromium) {
  console.warn(`console browser test skipped: ${CHROMIUM} is absent (apt-get install chromium, as .ci/run does)`);
}

/** A server's row as the page shows it now. */
async function row(page: Page, server: string): Promise<{ status: string; pid: string }> {
  return page.$eval(`#servers tr[data-server="${server}"]`, (tr) => ({
    status: (tr as HTMLElement).dataset.status ?? '',
    pid: tr.children[3]?.textContent ?? '',
  }));
}

describe.skipIf(!hasChromium)('the web console in a real browser', () => {
  it('shows every server live: a SIGKILLed server turns FAILED, then RUNNING again after its restart, without a reload', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'web1', ['server1', 'server2'],
      '  applications: { hello: { context: "/hello", targets: ["cluster1"] } },\n  restart: { attempts: 20, windowSeconds: 120 },\n', { autoRestart: true });
    await cp(join(repoRoot, 'examples', 'hello'), join(domain.dir, 'apps', 'hello'), { recursive: true });
    await startMaster(domain);
    await startManaged(home, 'web1', 'server1');
    const server2 = await startManaged(home, 'web1', 'server2');
    const printed = await run('master', ['console-url', 'web1', '--home', home, '--json']);
    expect(printed.exitCode).toBe(0);
    const { url } = JSON.parse(printed.stdout);

    const context = await consoleBrowser(domain);
    const page = context.pages()[0] ?? (await context.newPage());
    await mkdir(ARTIFACTS, { recursive: true });

    // The link is followed from another site, as from a chat or a web mail: the session cookie
    // (SameSite=Strict) must still reach the console.
    const elsewhere = createServer((_, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(`<a id="login" href="${url}">the console</a>`);
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, 'localhost', resolve));
    onCleanup(() => new Promise<void>((resolve) => {
      elsewhere.close(() => resolve());
      elsewhere.closeAllConnections();
    }));
    await page.goto(`http://localhost:${(elsewhere.address() as AddressInfo).port}/`);
    await page.click('#login');
    await page.waitForURL((address) => address.pathname === '/console/');
    for (const server of ['adminServer', 'server1', 'server2']) {
      await page.waitForSelector(`#servers tr[data-server="${server}"][data-status="RUNNING"]`, { timeout: 20_000 });
    }
    await page.waitForSelector('#membership tr[data-member="server2"]');
    expect(await page.textContent('#domain')).toBe('web1');
    await page.waitForSelector('#details article[data-server="server1"] td:text-is("hello")');
    expect((await row(page, 'server2')).pid).toBe(String(server2.pid));

    // Every status the page shows for server2 from now on, in order, in the page that stays loaded.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      const record = () => {
        const status = (document.querySelector('#servers tr[data-server="server2"]') as HTMLElement | null)?.dataset.status;
        if (status && seen.at(-1) !== status) seen.push(status);
      };
      new MutationObserver(record).observe(document.querySelector('#servers tbody')!, { childList: true, subtree: true });
      record();
    });

    killPid(server2.pid);
    // Something else holds its HTTP port for now: the MASTER's restarts fail, so FAILED lasts
    // (the page may show a state for as little as a second), with the reason in its row.
    await server2.child;
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(domain.servers.server2!.http, '127.0.0.1', resolve));
    onCleanup(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
    await page.waitForFunction(() => {
      const tr = document.querySelector('#servers tr[data-server="server2"]') as HTMLElement;
      return tr.dataset.status === 'FAILED' && /restart failed/.test(tr.children[9]!.textContent!);
    }, null, { timeout: 30_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'console-failed.png'), fullPage: true });
    squatter.close();
    await page.waitForFunction(
      (oldPid) => {
        const { seen } = window as unknown as { seen: string[] };
        const tr = document.querySelector('#servers tr[data-server="server2"]') as HTMLElement;
        return seen.lastIndexOf('RUNNING') > seen.indexOf('FAILED') && tr.dataset.status === 'RUNNING' && /^\d+$/.test(tr.children[3]!.textContent!) && tr.children[3]!.textContent !== oldPid;
      },
      String(server2.pid),
      { timeout: 45_000 },
    );
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    expect(seen[0]).toBe('RUNNING');
    expect(seen.indexOf('FAILED')).toBeGreaterThan(0);
    expect(await page.textContent('#events')).toMatch(/server2failedFAILURE_SUSPECTED → FAILED/);
    // The MASTER's own restarts are among the events, with its log code.
    expect(await page.textContent('#events')).toMatch(/MA-0051restarting server2 on node node1 \(attempt \d+ of 20\)/);
    expect(await page.getAttribute('#connection', 'data-state')).toBe('live');
    await page.screenshot({ path: join(ARTIFACTS, 'console.png'), fullPage: true });
  }, 120_000);
});
