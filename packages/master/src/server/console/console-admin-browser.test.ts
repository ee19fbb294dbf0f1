import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { killPid, repoRoot, run, tempHome, waitFor } from '@flotilla/test-support';
import { consoleBrowser, hasChromium } from '@flotilla/test-support/browser';
import { createTestDomain, startManaged, startMaster } from '@flotilla/test-support/domain';

/** The screenshots docs/console.md shows, taken by this test. */
const SCREENSHOTS = join(repoRoot, 'docs', 'images');

async function link(home: string, admin: boolean): Promise<string> {
  const printed = await run('master', ['console-url', 'web2', '--home', home, '--json', ...(admin ? ['--admin'] : [])]);
  expect(printed.exitCode, printed.stderr).toBe(0);
  return JSON.parse(printed.stdout).url;
}

async function open(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForURL((address) => address.pathname === '/console/');
  await page.waitForSelector('#servers tr[data-server="server1"][data-status="RUNNING"]', { timeout: 20_000 });
}

function status(page: Page, server: string): Promise<string | undefined> {
  return page.$eval(`#servers tr[data-server="${server}"]`, (tr) => (tr as HTMLElement).dataset.status);
}

describe.skipIf(!hasChromium)('the web console as an administration console, in a real browser', () => {
  it('read-only links change nothing; admin links set the backup policy, stop and start servers, restart a cluster rolling, deploy and undeploy, tail logs; a stopped MASTER shows nothing as RUNNING', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'web2', ['server1', 'server2'], '  restart: { attempts: 20, windowSeconds: 120 },\n', { autoRestart: true });
    const master = await startMaster(domain);
    await startManaged(home, 'web2', 'server1');
    await startManaged(home, 'web2', 'server2');
    const context = await consoleBrowser(domain);
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
    page.on('pageerror', (error) => errors.push(error.message));
    await mkdir(SCREENSHOTS, { recursive: true });

    // Read-only: every change control is disabled.
    await open(page, await link(home, false));
    await page.waitForSelector('#session:text("read-only session")');
    expect(await page.$$eval('.change', (nodes) => nodes.filter((node) => !(node as HTMLButtonElement).matches(':disabled')).length)).toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'console-read-only.png'), fullPage: true });
    // Readable at phone width: nothing wider than the screen but the tables, which scroll in their cards.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(SCREENSHOTS, 'console-phone.png'), fullPage: false });
    await page.setViewportSize({ width: 1280, height: 900 });

    // Admin.
    await open(page, await link(home, true));
    await page.waitForSelector('#session:text("admin session")');
    await page.waitForSelector('#backup-form fieldset:enabled');

    // The backup policy: a wrong value is said at its field, as set-domain-backup says it.
    const backupDir = join(home, 'page-backups');
    await page.waitForFunction(() => (document.querySelector('#backup-form [name="keep"]') as HTMLInputElement).value === '10');
    await page.check('#backup-form [name="backupOnBoot"]');
    await page.fill('#backup-form [name="backupDir"]', backupDir);
    await page.selectOption('#backup-form [name="nodeName"]', 'node1');
    await page.fill('#backup-form [name="keep"]', '0');
    await page.click('#backup-form button[type="submit"]');
    await page.waitForSelector('#backup-form .field-error[data-for="keep"]:text("--keep 0: must be a whole number from 1 to 1000")');
    await page.fill('#backup-form [name="keep"]', '3');
    await page.selectOption('#backup-form [name="nodeName"]', 'none');
    await page.click('#backup-form button[type="submit"]');
    await page.waitForSelector('#notice:text("Successfully performed the MODIFY operation for Domain Backup Policy.")');
    expect(await page.textContent('#backup-form .field-error[data-for="keep"]')).toBe('');
    const policy = JSON.parse((await run('set-domain-backup', ['web2', '--json', '--home', home])).stdout).policy;
    expect(policy).toMatchObject({ onBoot: true, dir: backupDir, node: null, keep: 3 });

    // Stop from the page, after a confirmation; failure handling leaves it stopped.
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#servers tr[data-server="server1"] button[data-op="stop"]');
    await page.waitForSelector('#servers tr[data-server="server1"][data-status="SHUTDOWN"]', { timeout: 30_000 });
    await page.waitForSelector('#notice:text("server1: stop done, SHUTDOWN")');
    const stoppedAt = Date.now();
    await waitFor('a few seconds of failure handling', () => Date.now() - stoppedAt > 4_000);
    expect(await status(page, 'server1')).toBe('SHUTDOWN');
    // No confirmation: a dialog nobody answers is dismissed, and the start would not happen.
    await page.click('#servers tr[data-server="server1"] button[data-op="start"]');
    await page.waitForSelector('#notice:text("server1: start done, RUNNING")', { timeout: 60_000 });
    // The table follows within its push interval.
    await page.waitForSelector('#servers tr[data-server="server1"][data-status="RUNNING"]');

    // A rolling restart of the cluster, confirmed: one server after the other, each with a new process.
    const pids = await page.$$eval('#servers tbody tr', (rows) => Object.fromEntries(rows.map((tr) => [(tr as HTMLElement).dataset.server, tr.children[3]!.textContent])));
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#clusters button[data-target="cluster1"][data-rolling="true"]');
    await page.waitForSelector('#notice:text("server1: restart done, RUNNING")', { timeout: 120_000 });
    expect(await page.textContent('#notice')).toBe('server1: restart done, RUNNING\nserver2: restart done, RUNNING');
    await page.waitForFunction((before) => ['server1', 'server2'].every((server) => {
      const tr = document.querySelector(`#servers tr[data-server="${server}"]`) as HTMLElement;
      return tr.dataset.status === 'RUNNING' && /^\d+$/.test(tr.children[3]!.textContent!) && tr.children[3]!.textContent !== before[server];
    }), pids);

    // Its log, tailed live (the MASTER started it detached, logging to its file).
    await page.click('#servers tr[data-server="server1"] button[data-log="server1"]');
    await page.waitForFunction(() => /MS-0002/.test(document.getElementById('log-lines')!.textContent!), null, { timeout: 20_000 });

    // Deploy by upload; undeploy after a confirmation, and not without it.
    const zip = join(home, 'hello.zip');
    await execa('zip', ['-qr', zip, '.'], { cwd: join(repoRoot, 'examples', 'hello') });
    await page.setInputFiles('#deploy-form [name="zip"]', zip);
    await page.fill('#deploy-form [name="name"]', 'hello');
    await page.fill('#deploy-form [name="context"]', '/hello');
    await page.fill('#deploy-form [name="targets"]', 'cluster1');
    await page.click('#deploy-form button[type="submit"]');
    await page.waitForSelector('#notice:text("application hello deployed at /hello to cluster1")', { timeout: 30_000 });
    const app = `http://127.0.0.1:${domain.servers.server1!.http}/hello`;
    await waitFor('hello to answer on server1', async () => (await fetch(app).catch(() => undefined))?.status === 200, 30_000);
    await page.waitForSelector('#applications tr[data-app="hello"]');
    await page.waitForSelector('#details article[data-server="server1"] td:text-is("hello")', { timeout: 20_000 });
    await page.click('#details article[data-server="server1"] button[data-app="hello"]');
    await page.waitForSelector('#log-title:text("Output of hello on server1")');
    await page.screenshot({ path: join(SCREENSHOTS, 'console-admin.png'), fullPage: true });
    page.once('dialog', (dialog) => void dialog.dismiss());
    await page.click('#applications button[data-undeploy="hello"]');
    expect(await page.$('#applications tr[data-app="hello"]')).not.toBeNull();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#applications button[data-undeploy="hello"]');
    await page.waitForSelector('#notice:text("application hello undeployed")', { timeout: 30_000 });
    await page.waitForSelector('#applications tr[data-app="hello"]', { state: 'detached' });

    // Every change is among the events, with the session that made it.
    const events = await page.textContent('#events');
    for (const what of ['backup policy', 'stop server1', 'start server1', 'rolling restart cluster1', 'deploy hello', 'undeploy hello']) expect(events).toMatch(new RegExp(`MA-0070web console session [0-9a-f]{12}: ${what}`));
    // Only the refused backup policy's answer (400, by design) is an error the browser reports.
    expect(errors).toEqual(['Failed to load resource: the server responded with a status of 400 (Bad Request)']);

    // The MASTER stopped: within 3 s no row says RUNNING.
    killPid(master.pid, 'SIGKILL');
    const killed = Date.now();
    await page.waitForFunction(() => [...document.querySelectorAll('#servers tbody tr')].every((tr) => (tr as HTMLElement).dataset.status === 'UNKNOWN'), null, { timeout: 3_000 });
    expect(Date.now() - killed).toBeLessThan(3_000);
    expect(await page.getAttribute('#connection', 'data-state')).toBe('reconnecting');
    expect(await page.$$('.change:enabled')).toHaveLength(0);

    // The next MASTER start writes a boot backup where the page said.
    await startMaster(domain);
    await waitFor('a boot backup in the directory the page set', async () => (await readdir(backupDir).catch(() => [])).some((file) => file.endsWith('.zip')), 30_000);
    await page.waitForSelector('#servers tr[data-server="adminServer"][data-status="RUNNING"]', { timeout: 20_000 });
    expect(existsSync(backupDir)).toBe(true);
  }, 360_000);
});
