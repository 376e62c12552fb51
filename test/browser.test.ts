// End to end in real headless Chromium: the demo (scripts/serve-demo.mjs) runs the diffusion model of the
// Node example on the cache in the origin-private file system. Checked: the kernels give the browser the
// bytes they give Node; the first load computes, a reload and a browser restart load from OPFS, faster; the
// index.json the browser wrote has Node's schema, checksums and files; a quota refusal leaves earlier
// entries intact; two tabs share one cache. A screenshot of the heat map goes to test/artifacts/.
//
// The file layer's promises, the quota, concurrent writers and Node's reading of the files are checked twice:
// in the page (OpfsFiles, writables) and in a dedicated worker (OpfsSahFiles, sync access handles), with the
// checks of test/fixtures/browser-opfs-checks.ts; and across the two, a page and a worker on the same files.
//
// Each vitest project runs it once with its own kernel build: 'simd' from the bytes embedded in the bundle,
// 'scalar' with init({ url }) from kernels-scalar.wasm, so both ways of loading the WASM are exercised.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheManager, kernelInfo, laplacian } from '../src/node.js';
import { DEFAULT_PARAMS, diffusionJob } from '../examples/diffusion-model.js';
import { bytesOf, hashKernelChecks } from '../demo/kernel-checks.js';
import type { DemoApi } from '../demo/main.js';
import { COST_FILE, parseCostFile } from '../src/cost/cost-file.js';
import { startDemoServer, type DemoServer } from '../scripts/demo-server.js';
import { nodeSha256Hex } from './fixtures/util.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
const repo = fileURLToPath(new URL('..', import.meta.url));
const kernelBuild = process.env.DASE_WASM_BUILD === 'scalar' ? 'scalar' : 'simd';
const pageQuery = kernelBuild === 'scalar' ? '?wasm=url&simd=0' : '';
const screenshot = join(repo, 'test', 'artifacts', kernelBuild === 'simd' ? 'demo.png' : 'demo-scalar.png');

declare const window: { daseDemo: DemoApi };

type Checks = typeof import('./fixtures/browser-opfs-checks.js');
/** Where a check runs: in the page (writables) or in a dedicated worker it starts (sync access handles). */
type Realm = 'page' | 'worker';
const WORKER_SCRIPT = 'opfs-checks-worker.js';

const present = existsSync(CHROMIUM);

if (!present && process.env.CI) {
  describe('the browser demo', () => {
    it('needs Chromium', () => {
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (.ci/run does, with apt-get install -y chromium)`);
    });
  });
}

describe.skipIf(!present)(`the browser demo in headless Chromium (${kernelBuild} build)`, () => {
  let url: string;
  let demo: DemoServer | undefined;
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
  async function lastRun(): Promise<{ steps: { label: string; source: string; ms: number; key: string; reason: string }[]; jobMs: number; snapshotsSha256: string; build: string }> {
    return page.evaluate(async () => {
      const r = await window.daseDemo.lastRun;
      return { steps: r.steps, jobMs: r.jobMs, snapshotsSha256: r.snapshotsSha256, build: r.kernel.build };
    });
  }

  let checksScript: string;

  /** Bundles the checks for the page (evaluated there) and for a worker (served beside the demo, same origin). */
  async function bundleChecks(): Promise<void> {
    const common = { bundle: true, platform: 'browser', target: 'es2022', write: false, logLevel: 'silent', keepNames: true } as const;
    const [forPage, forWorker] = await Promise.all([
      build({ ...common, entryPoints: [join(repo, 'test', 'fixtures', 'browser-opfs-checks.ts')], format: 'iife', globalName: 'daseOpfsChecks',
        footer: { js: 'globalThis.daseOpfsChecks = daseOpfsChecks;' } }),
      build({ ...common, entryPoints: [join(repo, 'test', 'fixtures', 'browser-opfs-worker.ts')], format: 'esm' }),
    ]);
    checksScript = forPage.outputFiles[0].text;
    writeFileSync(join(out, WORKER_SCRIPT), forWorker.outputFiles[0].text);
  }

  /** Runs a check of browser-opfs-checks.ts in the tab's page or in its dedicated worker (started once per page load). */
  async function run<M extends keyof Checks>(tab: Page, realm: Realm, method: M, ...args: Parameters<Checks[M]>): Promise<Awaited<ReturnType<Checks[M]>>> {
    if (realm === 'page') {
      if (!await tab.evaluate(() => 'daseOpfsChecks' in globalThis)) await tab.evaluate(checksScript);
      return tab.evaluate(({ method, args }) => {
        const checks = (globalThis as unknown as { daseOpfsChecks: Record<string, (...a: unknown[]) => unknown> }).daseOpfsChecks;
        return checks[method](...args);
      }, { method, args: args as unknown[] }) as Promise<Awaited<ReturnType<Checks[M]>>>;
    }
    return tab.evaluate(async ({ script, method, args }) => {
      type Call = (method: string, args: unknown[]) => Promise<unknown>;
      const scope = globalThis as unknown as { daseOpfsWorker?: Promise<Call> };
      scope.daseOpfsWorker ??= new Promise<Call>((resolve, reject) => {
        const worker = new Worker(`/${script}`, { type: 'module' });
        const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
        let next = 0;
        worker.onerror = (e) => reject(new Error(`worker: ${e.message}`));
        worker.onmessage = (event) => {
          const { ready, id, result, error } = event.data;
          if (ready) {
            resolve((m, a) => new Promise((done, fail) => { pending.set(next, { resolve: done, reject: fail }); worker.postMessage({ id: next++, method: m, args: a }); }));
            return;
          }
          const call = pending.get(id)!;
          pending.delete(id);
          if (error !== undefined) call.reject(new Error(`in the worker: ${error}`)); else call.resolve(result);
        };
      });
      return (await scope.daseOpfsWorker)(method, args);
    }, { script: WORKER_SCRIPT, method, args: args as unknown[] }) as Promise<Awaited<ReturnType<Checks[M]>>>;
  }

  beforeAll(async () => {
    profile = mkdtempSync(join(tmpdir(), 'dase-cache-chromium-'));
    out = mkdtempSync(join(tmpdir(), 'dase-cache-demo-'));
    demo = await startDemoServer(out);
    url = demo.url;
    await Promise.all([launch(), bundleChecks()]);
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await demo?.stop();
    rmSync(profile, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });

  let firstRun: Awaited<ReturnType<typeof lastRun>>;
  const simulationStep = (run: typeof firstRun) => run.steps.find((s) => s.label === 'simulation')!;

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
    // The panel says what 'auto' decided for each step, and why.
    expect(firstRun.steps.every((s) => /^(stored|kept in memory only|recomputed|called directly)/.test(s.reason))).toBe(true);
    expect(simulationStep(firstRun).reason).toMatch(/^stored: computing it took .*, a load of .* would take about/);
    const reasons = await page.locator('#steps-body td.reason').allTextContents();
    expect(reasons).toEqual(firstRun.steps.map((s) => s.reason));
  });

  it('loads the simulation from OPFS after a reload and after a browser restart, faster, with the same result', async () => {
    await page.reload();
    const reloaded = await lastRun();
    const simulation = simulationStep;
    expect(simulation(reloaded).source).toBe('disk');
    expect(simulation(reloaded).reason).toMatch(/^loaded: computing it takes .*, a load of .* takes about/);
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
    // Beside the categories, the root holds the cost model only, which has learnt what loads from OPFS cost.
    expect(listed.filter((p) => !p.includes('/'))).toEqual([COST_FILE]);
    expect([...new Set(listed.filter((p) => p.includes('/')).map((p) => p.split('/')[0]))].sort()).toEqual(categories);
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
        mkdirSync(dirname(join(copied, path)), { recursive: true });
        writeFileSync(join(copied, path), (await readFile(path))!);
      }
      expect(parseCostFile(readFileSync(join(copied, COST_FILE))).loads.get('opfs')!.samples).toBeGreaterThan(0);
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
      expect(readdirSync(nodeRoot).sort()).toEqual([COST_FILE, ...categories]);
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

  it.each(['page', 'worker'] as const)('stores a kernel\'s output in the browser byte for byte as Node stores it (%s)', async (realm) => {
    const root = `same-bytes-${realm}`;
    await run(page, realm, 'saveLaplacian', root);
    const nodeRoot = mkdtempSync(join(tmpdir(), 'dase-cache-same-bytes-'));
    try {
      const cache = new CacheManager({ root: nodeRoot });
      await cache.save('stencils', 'laplacian_2d_64_64_periodic', laplacian([64, 64], { boundary: 'periodic' }), { metadata: { note: 'same' } });
      await cache.close();
      const read = async (path: string) =>
        Buffer.from((await page.evaluate(([p, r]) => window.daseDemo.readFile(p, r), [`stencils/${path}`, root]))!, 'base64');
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

  it.each(['page', 'worker'] as const)('refuses a write over the quota with EQUOTA, leaving earlier entries intact and no temporary file (%s)', async (realm) => {
    const origin = new URL(url).origin;
    const root = `quota-test-${realm}`;
    const cdp = await context.newCDPSession(page);
    try {
      const usage = await run(page, realm, 'quotaPrepare', root);
      // Room for the bookkeeping, not for 8 MB more (nor for the 1 MiB a sync access handle asks for any write).
      await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage + 512 * 1024 });
      const result = await run(page, realm, 'quotaSaveLarge', root);
      expect(result.error).toMatchObject({ name: 'CacheError', code: 'EQUOTA', cause: 'QuotaExceededError', isCacheError: true });
      expect(result.error!.message).toMatch(/QuotaExceededError.*earlier cache entries are intact/s);
      expect(result.small).toEqual([1000, 0.5]);
      expect(result.keys).toEqual(['small']);
      expect(result.ok).toBe(true);
    } finally {
      await cdp.send('Storage.overrideQuotaForOrigin', { origin }); // no size: the browser's own quota again
      await cdp.detach();
    }
    const names = await page.evaluate((r) => window.daseDemo.listFiles(r), root);
    expect(names.filter((n) => n.includes('/.tmp-') || n.endsWith('.crswap'))).toEqual([]);
    expect(names).toContain('fractional_kernels/small.npz');
  });

  it.each([
    { name: 'two tabs', writers: [['page', 'page'], ['second', 'page']] },
    { name: 'a page and the workers of two tabs', writers: [['page', 'page'], ['page', 'worker'], ['second', 'worker']] },
  ] as const)('lets $name save into one category at once, with Web Locks keeping the index whole', async ({ writers }) => {
    const root = `tabs-test-${writers.length}`;
    const second = await context.newPage();
    await second.goto(`${url}${pageQuery}${pageQuery ? '&' : '?'}autorun=0`);
    const tabs = { page, second };
    await Promise.all(writers.map(([tab, realm], i) => run(tabs[tab], realm, 'saveConcurrently', root, String.fromCharCode(97 + i))));
    const seen = await run(second, 'page', 'readConcurrent', root);
    await second.close();
    expect(seen.keys).toHaveLength(12 * writers.length + 4);
    expect(seen.ok).toBe(true);
    for (const value of seen.shared as { tab: string; i: number }[]) expect(['a', 'b', 'c']).toContain(value.tab);
  });

  it.each([
    { realm: 'page', layer: 'writable', name: 'OpfsFiles in the page (writables)' },
    { realm: 'worker', layer: 'sah', name: 'OpfsSahFiles in a dedicated worker (sync access handles)' },
  ] as const)('$name: atomic replace, a version that changes in the same millisecond, appends, Web Locks', async ({ realm, layer }) => {
    const result = await run(page, realm, 'filesPromises', layer, `files-test-${layer}`);
    expect(result).toEqual({
      versions: 20, olderMoved: true, torn: 0, lines: 25, first: 'line 0', tail: expect.stringMatching(/^\S/),
      ended: 'whole\nunfini\nnext\n', renamed: 'new', listed: ['.journal-0', '.journal-1', 'b', 'big', 'v'],
      removed: [true, false, undefined], timedOut: 'ELOCKED', notFree: 'ELOCKED', root: `opfs:/files-test-${layer}`,
    });
  });

  it('picks sync access handles in a dedicated worker and writables in the page', async () => {
    expect(await run(page, 'worker', 'chosenLayer')).toEqual({ layer: 'sah', syncAccessHandles: true });
    expect(await run(page, 'page', 'chosenLayer')).toEqual({ layer: 'writable', syncAccessHandles: false });
  });

  it('keeps, given no maxBytes, a budget of half the origin\'s quota, so the browser never has to evict the origin', async () => {
    for (const realm of ['page', 'worker'] as const) {
      const { maxBytes, quota, memory } = await run(page, realm, 'defaultBudget');
      expect(quota).toBeGreaterThan(0);
      expect(maxBytes).toBe(Math.floor(quota! / 2));
      expect(memory).toBe(1024 * 1024); // in memory: only the budget it is given
    }
  });

  it('keeps its promises between a page and a worker on the same files: whole files, whole journal lines', async () => {
    const root = 'cross-test';
    const n = 200_000; // from 64 KiB the worker reads through read-only handles, which the page's moves wait for
    const inPage = ['writable', root] as ['writable', string], inWorker = ['sah', root] as ['sah', string];
    // The page replaces the file while the worker reads it, then the other way round.
    const [pageWrote, workerRead] = await Promise.all([
      run(page, 'page', 'replaceMany', inPage, 'big', 15, n), run(page, 'worker', 'readMany', inWorker, 'big', 60, n)]);
    const [workerWrote, pageRead] = await Promise.all([
      run(page, 'worker', 'replaceMany', inWorker, 'big', 15, n), run(page, 'page', 'readMany', inPage, 'big', 60, n)]);
    expect({ pageWrote, workerRead, workerWrote, pageRead }).toEqual({
      pageWrote: 15, workerRead: { torn: 0, seen: expect.any(Number) }, workerWrote: 15, pageRead: { torn: 0, seen: expect.any(Number) } });
    expect(workerRead.seen + pageRead.seen).toBeGreaterThan(0);
    // Both append to one journal while each reads it as the cache's journal reader does.
    const [, , pageWatch, workerWatch] = await Promise.all([
      run(page, 'page', 'appendLines', 'writable', root, '.journal-0', 'page', 40),
      run(page, 'worker', 'appendLines', 'sah', root, '.journal-0', 'worker', 40),
      run(page, 'page', 'watchLines', 'writable', root, '.journal-0', 80),
      run(page, 'worker', 'watchLines', 'sah', root, '.journal-0', 80),
    ]);
    expect({ pageWatch: { notWhole: pageWatch.notWhole, lines: pageWatch.lines }, workerWatch: { notWhole: workerWatch.notWhole, lines: workerWatch.lines } })
      .toEqual({ pageWatch: { notWhole: 0, lines: 80 }, workerWatch: { notWhole: 0, lines: 80 } });
  });

  it('leaves no Web Lock held when a sync access handle cannot be opened (the file is held elsewhere)', async () => {
    expect(await run(page, 'worker', 'appendWhileHeld', 'held-lock-test')).toEqual({
      error: 'NoModificationAllowedError', waited: true, locks: [], journal: 'first\nthird\n' });
  });

  it('waits for a worker\'s read-only handle before moving over or removing a file in the page', async () => {
    await run(page, 'page', 'replaceMany', ['writable', 'held-test'], 'big', 1, 100_000);
    // The worker holds the file open for 150 ms; the page replaces it at once, then removes it.
    const { held } = await run(page, 'worker', 'holdReadOnly', 'held-test', 'big', 150);
    const result = await run(page, 'page', 'replaceAndRemove', 'writable', 'held-test', 'big');
    expect(held).toBe(true);
    expect(result).toMatchObject({ replaced: 'replaced', removed: true });
    expect(result.ms).toBeGreaterThan(50); // it waited (the handle was open for most of 150 ms)
  });

  it('logged no page error', () => {
    expect(pageErrors).toEqual([]);
  });
});
