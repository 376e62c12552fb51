// The HTTP remote from a real browser (headless Chromium): a page on one origin uses the cache's remote on
// another (nginx's WebDAV folder with CORS headers) through fetch. It loads what Node published, verified, and
// publishes what it saves, which Node then loads.
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheManager } from '../src/node.js';
import { startNginxDav, type NginxDavServer } from '../scripts/local-servers.js';
import { FIRST_BUILD_PASS, mulberry32 } from './fixtures/util.js';

const CHROMIUM = '/usr/bin/chromium';
const present = existsSync(CHROMIUM);

declare const window: { dase: typeof import('../src/index.js') };

const published = () => {
  const rand = mulberry32(77);
  return Float64Array.from({ length: 4000 }, () => rand());
};

describe.skipIf(!present || !FIRST_BUILD_PASS)('the HTTP remote in headless Chromium', () => {
  let nginx: NginxDavServer;
  let page: Server;
  let pageUrl: string;
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dase-browser-remote-'));
    nginx = await startNginxDav({ cors: true });
    const bundle = await build({
      entryPoints: [new URL('../src/index.ts', import.meta.url).pathname],
      bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent',
    });
    const script = bundle.outputFiles[0].text;
    const html = '<!doctype html><script type="module">import * as dase from "./dase.js"; window.dase = dase;</script>';
    page = createServer((request, response) => {
      const js = request.url === '/dase.js';
      response.writeHead(200, { 'content-type': js ? 'text/javascript' : 'text/html' });
      response.end(js ? script : html);
    });
    await new Promise<void>((done) => page.listen(0, '127.0.0.1', done));
    pageUrl = `http://127.0.0.1:${(page.address() as { port: number }).port}/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((done) => page?.close(done));
    await nginx?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a page on another origin loads what Node published, verified, and publishes what it saves', async () => {
    const remote = `${nginx.url}/web`;
    const node = new CacheManager({ root: join(dir, 'node'), remote });
    await node.save('state_profiles', 'published', published(), { metadata: { from: 'node' } });
    await node.close();

    const tab = await browser.newPage();
    await tab.goto(pageUrl);
    await tab.waitForFunction(() => window.dase !== undefined);
    expect(new URL(pageUrl).origin).not.toBe(new URL(remote).origin);
    const seen = await tab.evaluate(async (url) => {
      const cache = new window.dase.CacheManager({ storage: 'memory', remote: url });
      const value = await cache.load('state_profiles', 'published') as Float64Array;
      const metadata = await cache.loadMetadata('state_profiles', 'published');
      await cache.save('state_profiles', 'from_browser', Float64Array.from({ length: 500 }, (_, i) => i * 0.25));
      await cache.settleBackground();
      const stats = (await cache.getStats()).remote;
      await cache.close();
      return { value: Array.from(value), metadata, stats };
    }, remote);
    expect(Float64Array.from(seen.value)).toEqual(published());
    expect(seen.metadata).toEqual({ from: 'node' });
    expect(seen.stats).toMatchObject({ kind: 'http', hits: 1, uploads: 1, errors: 0, rejected: 0 });

    const other = new CacheManager({ root: join(dir, 'other'), remote });
    expect(await other.load('state_profiles', 'from_browser')).toEqual(Float64Array.from({ length: 500 }, (_, i) => i * 0.25));
    await other.close();
    await tab.close();
  });

  it('a page refuses a Redis URL with a clear error: browsers cannot open TCP connections', async () => {
    const tab = await browser.newPage();
    await tab.goto(pageUrl);
    await tab.waitForFunction(() => window.dase !== undefined);
    const message = await tab.evaluate(() => {
      try {
        new window.dase.CacheManager({ storage: 'memory', remote: 'redis://127.0.0.1:6379/0' });
        return 'no error';
      } catch (error) {
        return `${(error as Error).name}: ${(error as Error).message}`;
      }
    });
    expect(message).toMatch(/^RangeError: .*redis:\/\/ remote needs Node/);
    await tab.close();
  });
});
