// End to end in real headless Chromium: the demo (scripts/serve-demo.mjs) runs the diffusion model of the
// Node example on the cache in the origin-private file system. Checked: the kernels give the browser the
// bytes they give Node; the first load computes, a reload and a browser restart load from OPFS, faster; the
// index.json the browser wrote has Node's schema, checksums and files; a quota refusal leaves earlier
// entries intact; two tabs share one cache. A screenshot of the heat map goes to test/artifacts/.
//
// Each vitest project runs it once with its own kernel build: 'simd' from the bytes embedded in the bundle,
// 'scalar' with init({ url }) from kernels-scalar.wasm, so both ways of loading the WASM are exercised.
import { createHash } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheManager, kernelInfo, laplacian } from '../src/node.js';
import { DEFAULT_PARAMS, diffusionJob } from '../examples/diffusion-model.js';
import { bytesOf, hashKernelChecks } from '../demo/kernel-checks.js';
import type { DemoApi } from '../demo/main.js';
import { nodeSha256Hex } from './fixtures/util.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
const repo = fileURLToPath(new URL('..', import.meta.url));
const kernelBuild = process.env.DASE_WASM_BUILD === 'scalar' ? 'scalar' : 'simd';
const pageQuery = kernelBuild === 'scalar' ? '?wasm=url&simd=0' : '';
const screenshot = join(repo, 'test', 'artifacts', kernelBuild === 'simd' ? 'demo.png' : 'demo-scalar.png');

declare const window: { daseDemo: DemoApi };

const present = existsSync(CHROMIUM);

if (!present && process.env.CI) {
  describe('the browser demo', () => {
    it('needs Chromium', () => {
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (.ci/run does, with apt-get install -y chromium)`);
    });
  });
}

/** Starts scripts/serve-demo.mjs on a free port, building into its own folder; resolves to its address. */
async function startServer(out: string): Promise<{ url: string; server: ChildProcess }> {
  const server = spawn(process.execPath, [join(repo, 'scripts', 'serve-demo.mjs'), '--port', '0', '--out', out], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve-demo printed no address in 30 s:\n${output}`)), 30_000);
    const read = (chunk: Buffer) => {
      output += chunk;
      const found = /http:\/\/127\.0\.0\.1:\d+\//.exec(output);
      if (found) { clearTimeout(timer); resolve(found[0]); }
    };
    server.stdout!.on('data', read);
    server.stderr!.on('data', read);
    server.once('exit', (code) => { clearTimeout(timer); reject(new Error(`serve-demo exited with ${code}:\n${output}`)); });
  });
  return { url, server };
}

describe.skipIf(!present)(`the browser demo in headless Chromium (${kernelBuild} build)`, () => {
  let url: string;
  let server: ChildProcess;
  let profile: string;
  let out: string;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  /** A persistent profile, so that OPFS lives on disk and survives a browser restart. */
  async function launch(): Promise<void> {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, args: FLAGS, viewport: { width: 1200, height: 1000 },
    });
    page = context.pages()[0] ?? await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => { if (message.type() === 'error') pageErrors.push(message.text()); });
  }

  /** Loads the demo (which runs the job at once) and returns its run's report, minus the frames. */
  async function lastRun(): Promise<{ steps: { label: string; source: string; ms: number; key: string }[]; jobMs: number; snapshotsSha256: string; build: string }> {
    return page.evaluate(async () => {
      const r = await window.daseDemo.lastRun;
      return { steps: r.steps, jobMs: r.jobMs, snapshotsSha256: r.snapshotsSha256, build: r.kernel.build };
    });
  }

  beforeAll(async () => {
    profile = mkdtempSync(join(tmpdir(), 'dase-cache-chromium-'));
    out = mkdtempSync(join(tmpdir(), 'dase-cache-demo-'));
    ({ url, server } = await startServer(out));
    await launch();
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    server?.kill();
    rmSync(profile, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });

  let firstRun: Awaited<ReturnType<typeof lastRun>>;

  it('serves the page under a strict Content-Security-Policy and loads the kernels it was asked for', async () => {
    const response = await page.goto(`${url}${pageQuery}`);
    expect(response!.headers()['content-security-policy']).toContain("script-src 'self' 'wasm-unsafe-eval'");
    const ready = await page.evaluate(() => window.daseDemo.ready);
    expect(ready).toMatchObject({ wasm: kernelBuild === 'scalar' ? 'url' : 'embedded', storage: 'opfs', root: 'dase-cache' });
    expect(ready.kernel.build).toBe(kernelBuild);
    expect(ready.kernel.wasmSha256).toBe(kernelInfo().wasmSha256); // the very binary Node runs here
  });

  it('gives in the browser the same kernel outputs as in Node (SHA-256 of their bytes)', async () => {
    const browser = await page.evaluate(() => window.daseDemo.kernelHashes());
    const node = hashKernelChecks((parts) => {
      const hash = createHash('sha256');
      for (const part of parts) hash.update(part);
      return hash.digest('hex');
    });
    expect(browser.kernel.build).toBe(kernelBuild);
    expect(Object.keys(browser.hashes).length).toBeGreaterThanOrEqual(10);
    expect(browser.hashes).toEqual(node);
  });

  it('runs the simulation on load, computing what OPFS does not hold yet', async () => {
    firstRun = await lastRun();
    expect(firstRun.build).toBe(kernelBuild);
    expect(firstRun.steps.map((s) => s.label)).toEqual(['fractional kernel', 'Laplacian (CSR)', 'history plan', 'simulation', 'D^alpha of the centre trace']);
    expect(firstRun.steps.every((s) => s.source === 'computed')).toBe(true);
  });

  it('loads the simulation from OPFS after a reload and after a browser restart, faster, with the same result', async () => {
    await page.reload();
    const reloaded = await lastRun();
    const simulation = (run: typeof firstRun) => run.steps.find((s) => s.label === 'simulation')!;
    expect(simulation(reloaded).source).toBe('disk');
    expect(simulation(reloaded).ms).toBeLessThan(simulation(firstRun).ms);
    expect(reloaded.jobMs).toBeLessThan(firstRun.jobMs);
    expect(reloaded.snapshotsSha256).toBe(firstRun.snapshotsSha256);

    await context.close();
    await launch(); // same profile: OPFS on disk
    await page.goto(`${url}${pageQuery}`);
    const restarted = await lastRun();
    expect(simulation(restarted).source).toBe('disk');
    expect(restarted.jobMs).toBeLessThan(firstRun.jobMs);
    expect(restarted.snapshotsSha256).toBe(firstRun.snapshotsSha256);
  });

  it('wrote index.json with Node\'s schema and checksums, and the files Node writes for the same job', async () => {
    const listed = await page.evaluate(() => window.daseDemo.listFiles());
    const categories = ['echo_templates', 'fftw_wisdom', 'fractional_kernels', 'mission_graph', 'source_maps', 'state_profiles', 'stencils', 'surrogates'];
    expect([...new Set(listed.map((p) => p.split('/')[0]))].sort()).toEqual(categories);
    for (const category of categories) expect(listed).toContain(`${category}/index.json`);
    expect(listed.filter((p) => p.includes('/.tmp-') || p.endsWith('.crswap'))).toEqual([]);

    const readFile = async (path: string) => {
      const base64 = await page.evaluate((p) => window.daseDemo.readFile(p), path);
      return base64 === null ? undefined : new Uint8Array(Buffer.from(base64, 'base64'));
    };
    const index = JSON.parse(Buffer.from((await readFile('state_profiles/index.json'))!).toString('utf8'));
    expect(index).toMatchObject({ version: '1.0' });
    expect(typeof index.created_at).toBe('string');
    expect(index.total_entries).toBe(Object.keys(index.entries).length);
    let bytes = 0;
    for (const [key, entry] of Object.entries(index.entries as Record<string, any>)) {
      expect(Object.keys(entry)).toEqual(expect.arrayContaining(['key', 'created_at', 'size_bytes', 'access_count', 'last_accessed', 'checksum', 'file', 'value']));
      expect(entry.key).toBe(key);
      const file = (await readFile(`state_profiles/${entry.file}`))!;
      expect(entry.size_bytes).toBe(file.length);
      expect(entry.checksum).toBe(`sha256:${nodeSha256Hex(file)}`);
      bytes += file.length;
    }
    expect(index.total_size_mb).toBeCloseTo(bytes / 2 ** 20, 3);
    // The access counts of the reload and the restart were flushed on close and folded into the index.
    const { alpha, grid, steps, dt, method = 'fast' } = DEFAULT_PARAMS;
    const simulationKey = `fractional-diffusion_${alpha}_${grid}_${steps}_${dt}_${method}`;
    expect(index.entries[simulationKey].access_count).toBeGreaterThanOrEqual(2);

    // Node reads what the browser wrote: the browser's files, copied into a Node cache root, validate and load.
    const copied = mkdtempSync(join(tmpdir(), 'dase-cache-from-browser-'));
    const nodeRoot = mkdtempSync(join(tmpdir(), 'dase-cache-node-reference-'));
    try {
      for (const path of listed) {
        mkdirSync(join(copied, path.split('/')[0]), { recursive: true });
        writeFileSync(join(copied, path), (await readFile(path))!);
      }
      const fromBrowser = new CacheManager({ root: copied });
      expect((await fromBrowser.validate()).ok).toBe(true);
      const loaded = await fromBrowser.load('state_profiles', simulationKey) as { snapshots: { data: Float64Array } };
      expect(nodeSha256Hex(bytesOf(loaded.snapshots.data))).toBe(firstRun.snapshotsSha256);
      await fromBrowser.close();

      // The same job in Node writes the same file, described alike. (Its bytes differ in the last bits: the
      // model's own Math.exp and ** are V8's, which differ between Node 20 and this Chromium.)
      const cache = new CacheManager({ root: nodeRoot });
      await diffusionJob(cache, DEFAULT_PARAMS).run();
      await cache.close();
      expect(readdirSync(nodeRoot).sort()).toEqual(categories);
      const nodeIndex = JSON.parse(readFileSync(join(nodeRoot, 'state_profiles', 'index.json'), 'utf8'));
      const ours = index.entries[simulationKey];
      const theirs = nodeIndex.entries[simulationKey];
      expect(Object.keys(index).sort()).toEqual(Object.keys(nodeIndex).sort());
      expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
      expect({ file: ours.file, value: ours.value }).toEqual({ file: theirs.file, value: theirs.value });
      // The file carries its metadata (in the zip comment): sizes differ by the spelling of compute_ms alone.
      const spelling = (entry: { metadata: { compute_ms: number } }) => JSON.stringify(entry.metadata.compute_ms).length;
      expect(ours.size_bytes - spelling(ours)).toBe(theirs.size_bytes - spelling(theirs));
      expect(Object.keys(ours.metadata).sort()).toEqual(Object.keys(theirs.metadata).sort());
      expect(ours.metadata.wasm_sha256).toBe(theirs.metadata.wasm_sha256);
    } finally {
      rmSync(copied, { recursive: true, force: true });
      rmSync(nodeRoot, { recursive: true, force: true });
    }
  });

  it('stores a kernel\'s output in the browser byte for byte as Node stores it', async () => {
    const save = async () => {
      const { CacheManager, laplacian } = window.daseDemo.lib;
      const cache = new CacheManager({ root: 'same-bytes' });
      await cache.save('stencils', 'laplacian_2d_64_64_periodic', laplacian([64, 64], { boundary: 'periodic' }), { metadata: { note: 'same' } });
      await cache.close();
    };
    await page.evaluate(save);
    const nodeRoot = mkdtempSync(join(tmpdir(), 'dase-cache-same-bytes-'));
    try {
      const cache = new CacheManager({ root: nodeRoot });
      await cache.save('stencils', 'laplacian_2d_64_64_periodic', laplacian([64, 64], { boundary: 'periodic' }), { metadata: { note: 'same' } });
      await cache.close();
      const read = async (path: string) =>
        Buffer.from((await page.evaluate((p) => window.daseDemo.readFile(p, 'same-bytes'), `stencils/${path}`))!, 'base64');
      const browserIndex = JSON.parse((await read('index.json')).toString('utf8'));
      const nodeIndex = JSON.parse(readFileSync(join(nodeRoot, 'stencils', 'index.json'), 'utf8'));
      const entry = (e: Record<string, unknown>) => ({ ...e, created_at: undefined, last_accessed: undefined });
      expect(entry(browserIndex.entries.laplacian_2d_64_64_periodic)).toEqual(entry(nodeIndex.entries.laplacian_2d_64_64_periodic));
      expect(browserIndex.total_size_mb).toBe(nodeIndex.total_size_mb);
      expect(new Uint8Array(await read('laplacian_2d_64_64_periodic.npz')))
        .toEqual(new Uint8Array(readFileSync(join(nodeRoot, 'stencils', 'laplacian_2d_64_64_periodic.npz'))));
    } finally {
      rmSync(nodeRoot, { recursive: true, force: true });
    }
  });

  it('saves a screenshot that shows the heat map', async () => {
    await page.waitForFunction(() => window.daseDemo.framesDrawn >= 3);
    // The centre of the canvas is hot (the bump), its corner cold: a heat map, not a blank canvas.
    const [centre, corner] = await page.evaluate(() => {
      const canvas = document.getElementById('heat') as HTMLCanvasElement;
      const ctx = canvas.getContext('2d')!;
      const at = (x: number, y: number) => [...ctx.getImageData(x, y, 1, 1).data];
      return [at(canvas.width / 2, canvas.height / 2), at(2, 2)];
    });
    expect(centre[0] + centre[1] + centre[2]).toBeGreaterThan(corner[0] + corner[1] + corner[2] + 200);
    mkdirSync(join(repo, 'test', 'artifacts'), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(existsSync(screenshot)).toBe(true);
  });

  it('refuses a write over the quota with EQUOTA, leaving earlier entries intact and no temporary file', async () => {
    const origin = new URL(url).origin;
    const cdp = await context.newCDPSession(page);
    try {
      const usage = await page.evaluate(async () => {
        const { CacheManager } = window.daseDemo.lib;
        const cache = new CacheManager({ root: 'quota-test' });
        await cache.save('fractional_kernels', 'small', new Float64Array(1000).fill(0.5));
        await cache.close();
        return (await navigator.storage.estimate()).usage ?? 0;
      });
      // Room for the bookkeeping, not for 8 MB more.
      await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage + 512 * 1024 });
      const result = await page.evaluate(async () => {
        const { CacheManager } = window.daseDemo.lib;
        const cache = new CacheManager({ root: 'quota-test' });
        const error = await cache.save('fractional_kernels', 'large', new Float64Array(1 << 20)).then(() => undefined,
          (e) => ({ name: e.name, code: e.code, message: e.message, cause: e.cause?.name, isCacheError: e instanceof window.daseDemo.lib.CacheError }));
        const small = await cache.load('fractional_kernels', 'small') as Float64Array;
        const report = await cache.validate();
        const keys = await cache.listKeys('fractional_kernels');
        await cache.close();
        return { error, small: [small.length, small[0]], keys, ok: report.ok };
      });
      expect(result.error).toMatchObject({ name: 'CacheError', code: 'EQUOTA', cause: 'QuotaExceededError', isCacheError: true });
      expect(result.error!.message).toMatch(/QuotaExceededError.*earlier cache entries are intact/s);
      expect(result.small).toEqual([1000, 0.5]);
      expect(result.keys).toEqual(['small']);
      expect(result.ok).toBe(true);
    } finally {
      await cdp.send('Storage.overrideQuotaForOrigin', { origin }); // no size: the browser's own quota again
      await cdp.detach();
    }
    const names = await page.evaluate(() => window.daseDemo.listFiles('quota-test'));
    expect(names.filter((n) => n.includes('/.tmp-') || n.endsWith('.crswap'))).toEqual([]);
    expect(names).toContain('fractional_kernels/small.npz');
  });

  it('lets two tabs save into one category at once, with Web Locks keeping the index whole', async () => {
    const second = await context.newPage();
    await second.goto(`${url}${pageQuery}${pageQuery ? '&' : '?'}autorun=0`);
    const writer = async (tab: string) => {
      const { CacheManager } = window.daseDemo.lib;
      const cache = new CacheManager({ root: 'tabs-test' });
      await Promise.all(Array.from({ length: 12 }, async (_, i) => {
        await cache.save('mission_graph', `${tab}-${i}`, { tab, i });
        await cache.save('mission_graph', `shared-${i % 4}`, { tab, i });
      }));
      await cache.close();
    };
    await Promise.all([page.evaluate(writer, 'a'), second.evaluate(writer, 'b')]);
    const seen = await second.evaluate(async () => {
      const { CacheManager } = window.daseDemo.lib;
      const cache = new CacheManager({ root: 'tabs-test' });
      const keys = await cache.listKeys('mission_graph');
      const shared = await Promise.all([0, 1, 2, 3].map((i) => cache.load('mission_graph', `shared-${i}`)));
      const report = await cache.validate();
      await cache.close();
      return { keys, shared, ok: report.ok };
    });
    await second.close();
    expect(seen.keys).toHaveLength(28);
    expect(seen.ok).toBe(true);
    for (const value of seen.shared as { tab: string; i: number }[]) expect(['a', 'b']).toContain(value.tab);
  });

  it('OpfsFiles: atomic replace, a version that changes in the same millisecond, appends, Web Locks', async () => {
    // The Files implementation itself, bundled for the page and evaluated there.
    const bundle = await build({
      entryPoints: [join(repo, 'src', 'platform', 'opfs-files.ts')], bundle: true, format: 'iife', globalName: 'daseOpfsFiles',
      footer: { js: 'globalThis.daseOpfsFiles = daseOpfsFiles;' }, platform: 'browser', write: false, logLevel: 'silent',
    });
    await page.evaluate(bundle.outputFiles[0].text);
    const result = await page.evaluate(async () => {
      const { OpfsFiles } = (globalThis as unknown as { daseOpfsFiles: typeof import('../src/platform/opfs-files.js') }).daseOpfsFiles;
      const files = new OpfsFiles('files-test');
      const text = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : new TextDecoder().decode(bytes));
      const bytes = (s: string) => new TextEncoder().encode(s);
      await files.makeDir('a/b');
      // The same bytes, replaced again and again as fast as it goes: the version must change every time.
      const versions = new Set<string>();
      for (let i = 0; i < 20; i++) {
        await files.writeAtomic('a/b/index.json', bytes('{"same":"content"}'));
        versions.add((await files.stat('a/b/index.json'))!.version);
      }
      // A move keeps the moved file's lastModified: an older temporary file moved over a newer file of the
      // same size must still change the version.
      const older = await files.writeTemp('a', bytes('same'));
      const newer = await files.writeTemp('a', bytes('same'));
      await files.rename(newer, 'a/v');
      const before = (await files.stat('a/v'))!.version;
      await files.rename(older, 'a/v');
      const olderMoved = (await files.stat('a/v'))!.version !== before;
      // Readers never see a partial file while it is replaced.
      const n = 200_000;
      let torn = 0;
      const writer = (async () => {
        for (let i = 0; i < 15; i++) await files.writeAtomic('a/big', bytes((i % 2 ? 'B' : 'A').repeat(n)));
      })();
      const reader = (async () => {
        for (let i = 0; i < 60; i++) {
          const got = text(await files.read('a/big'));
          if (got !== undefined && !(got.length === n && (/^A+$/.test(got) || /^B+$/.test(got)))) torn++;
        }
      })();
      await Promise.all([writer, reader]);
      // Concurrent appends: every line lands whole.
      await Promise.all(Array.from({ length: 25 }, (_, i) => files.append('a/.journal-0', bytes(`line ${i}\n`))));
      const lines = text(await files.read('a/.journal-0'))!.trim().split('\n').sort();
      const tail = text(await files.readFrom('a/.journal-0', 7));
      // rename over an existing file, remove, list.
      const temp = await files.writeTemp('a', bytes('new'));
      await files.rename(temp, 'a/b/index.json');
      const renamed = text(await files.read('a/b/index.json'));
      const listed = (await files.list('a')).sort();
      const removed = [await files.remove('a/big'), await files.remove('a/big'), await files.read('a/big')];
      // Locks: exclusive, timed out with LockTimeoutError, free again once released.
      const release = await files.lock('a/.lock', { timeoutMs: 1000 });
      const timedOut = await files.lock('a/.lock', { timeoutMs: 100 }).then(() => 'taken', (e) => `${e.code}`);
      const notFree = await files.lock('a/.lock', { timeoutMs: 0 }).then(() => 'taken', (e) => `${e.code}`);
      await release();
      const again = await files.lock('a/.lock', { timeoutMs: 0 });
      await again();
      return { versions: versions.size, olderMoved, torn, lines: lines.length, first: lines[0], tail: tail!.slice(0, 7), renamed, listed, removed, timedOut, notFree, root: files.root };
    });
    expect(result).toEqual({
      versions: 20, olderMoved: true, torn: 0, lines: 25, first: 'line 0', tail: expect.stringMatching(/^\S/), renamed: 'new',
      listed: ['.journal-0', 'b', 'big', 'v'], removed: [true, false, undefined], timedOut: 'ELOCKED', notFree: 'ELOCKED', root: 'opfs:/files-test',
    });
  });

  it('logged no page error', () => {
    expect(pageErrors).toEqual([]);
  });
});
