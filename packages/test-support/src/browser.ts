import { createHash, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { onCleanup } from './index.js';
import type { TestDomain } from './domain.js';
import { domainCa } from './management.js';

/** Debian's Chromium (.ci/run installs it): Playwright downloads no browser of its own here. */
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

/** Chromium's way to trust one CA without a certificate store: the SHA-256 of its public key. */
function spkiPin(caPem: string): string {
  return createHash('sha256').update(new X509Certificate(caPem).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
}

/** A headless Chromium that trusts the domain's CA, closed after the test. */
export async function consoleBrowser(domain: TestDomain, viewport = { width: 1440, height: 900 }): Promise<BrowserContext> {
  const context = await chromium.launchPersistentContext(join(domain.home, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      `--ignore-certificate-errors-spki-list=${spkiPin(await domainCa(domain))}`,
    ],
    viewport,
  });
  onCleanup(() => context.close());
  return context;
}
