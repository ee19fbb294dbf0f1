import { readFile } from 'node:fs/promises';

/** The page ships in the package (packages/master/console/): no build step, no CDN. */
const ASSET_DIR = new URL('../../../console/', import.meta.url);

/** Everything the console serves, by name: no request ever names a path on disk. */
const ASSETS: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

export interface Asset {
  body: Buffer;
  contentType: string;
}

/** Reads each file once; a few kilobytes kept for the MASTER's lifetime. */
export class ConsoleAssets {
  private readonly loaded = new Map<string, Promise<Asset>>();

  has(name: string): boolean {
    return Object.hasOwn(ASSETS, name);
  }

  get(name: string): Promise<Asset> {
    let asset = this.loaded.get(name);
    if (!asset) {
      const url = new URL(name, ASSET_DIR);
      asset = readFile(url).then(
        (body) => ({ body, contentType: ASSETS[name]! }),
        (error: Error) => {
          this.loaded.delete(name);
          throw new Error(`console asset ${name} cannot be read from ${url.pathname}: ${error.message}`, { cause: error });
        },
      );
      this.loaded.set(name, asset);
    }
    return asset;
  }
}
