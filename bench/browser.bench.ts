// In headless Chromium (Debian's, /usr/bin/chromium): SHA-256 of a whole buffer by our WASM sha256Hex against
// crypto.subtle.digest, and the browser CacheManager's save and verified load on OPFS and in memory, on the
// main thread (writables) and in a dedicated worker (sync access handles). The worker's OPFS figures are
// compared with their targets and with the floor: the bare browser API doing the file work of the same
// operation (a sync handle's write, flush, close and move; a read and crypto.subtle.digest), measured in the
// same worker, interleaved with the cache's operations.
//
// The page and the worker run one esbuild bundle of src/index.ts plus the measuring code below, served from a
// node:http server on 127.0.0.1 (a secure context, so OPFS works) with COOP/COEP headers, so that the page is
// cross-origin isolated and performance.now() is not coarsened to 100 µs. The browser gets a fresh profile
// folder: OPFS on disk, as a user's would be (a plain launch's context keeps OPFS in memory).
//
// Then the demo end to end (bench/browser-demo.ts): its first run on an empty OPFS against its reload.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { formatTime, median, summarize, tableLines, type ComparisonResult } from './_harness.js';
import { benchDemo, type BrowserDemoRecord } from './browser-demo.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const SHA_SIZES = [1 << 10, 16 << 10, 256 << 10, 1 << 20, 8 << 20, 64 << 20];
const SHA_ROUNDS = 9;
const SHA_SLICE_MS = 25;
const CACHE_ROUNDS = 7;
const CACHE_SLICE_MS = 40;
const CACHE_WARMUP_MS = 250;
/** Elements of the large entry: 8 MB (10^6 bytes) of doubles. */
const LARGE_ELEMENTS = 1_000_000;

/** The worker's OPFS operations with a target time, and the floors they are compared with. */
const TARGETS = [
  { what: '1 KiB bytes', operation: 'save', targetMs: 3, floors: ['1 KiB: one file', '1 KiB: two appends and one file'] },
  { what: '8 MB Float64Array', operation: 'save', targetMs: 40, floors: ['8 MB: one file', '8 MB: SHA-256 and one file'] },
  { what: '8 MB Float64Array', operation: 'load', targetMs: 15, floors: ['8 MB: getFile() and SHA-256', '8 MB: read-only handle and SHA-256'] },
] as const;

/** What each floor does, with the browser's API alone, in the worker. */
const FLOOR_WORK: Record<string, string> = {
  '1 KiB: one file': 'a 1 KiB temp file by a sync handle (write, flush, close), moved over the old file',
  '1 KiB: two appends and one file': 'the same, between two 200-byte appends by sync handles (a save writes these three)',
  '8 MB: one file': 'an 8 MB temp file by a sync handle, moved over the old file',
  '8 MB: SHA-256 and one file': 'crypto.subtle.digest of the 8 MB, then that file',
  '8 MB: getFile() and SHA-256': 'getFile().arrayBuffer() of the 8 MB file, then crypto.subtle.digest',
  '8 MB: read-only handle and SHA-256': "a read-only sync handle's read of it, then crypto.subtle.digest",
};

/** Skips the bench where there is no Chromium to drive; the reason, or undefined when it can run. */
export function browserBenchSkipped(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (Debian: apt-get install chromium); the browser bench is skipped`;
}

/** One timed operation in the browser, as bench/run.ts stores it. */
export interface BrowserTiming {
  name: string;
  kind: 'sha256' | 'cache';
  /** 'wasm sha256Hex' or 'crypto.subtle.digest' for kind 'sha256'; 'save' or 'load' for kind 'cache'. */
  operation: string;
  where: 'main' | 'worker';
  storage: 'opfs' | 'memory' | 'none';
  /** kind 'cache': what the CacheManager wrote through ('writables' or 'sync access handles' on OPFS, 'memory'). */
  layer?: string;
  /** Bytes of the value per operation (what MB/s counts). */
  bytes: number;
  rounds: number;
  opsPerRound: number;
  msPerOpByRound: number[];
  medianMs: number;
  mbPerSecond: number;
  /** sha256 only, on crypto.subtle's records: median per-round ratio of subtle's time to the WASM's (> 1: WASM faster). */
  wasmSpeedup?: number;
}

/** The size from which crypto.subtle.digest is faster than the WASM sha256Hex at every larger size measured. */
export interface BrowserShaCrossover {
  name: string;
  kind: 'sha256-crossover';
  /** Null when the WASM is faster at the largest size measured. */
  crossoverBytes: number | null;
  sizes: number[];
  chromium: string;
  crossOriginIsolated: boolean;
}

export type BrowserBenchRecord = BrowserTiming | BrowserShaCrossover | BrowserDemoRecord;

// What runs in the page and the worker (plain JS, bundled with the library). The page drives both: each
// round of the cache measurements runs every configuration (main/worker x opfs/memory) once, in rotated order.
const BROWSER_CODE = String.raw`
import { CacheManager, init, sha256Hex } from './src/index.ts';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
function toHex(buffer) {
  const bytes = new Uint8Array(buffer);
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]];
  return s;
}

function filled(bytes, seed) {
  const buffer = new ArrayBuffer(bytes);
  const words = new Uint32Array(buffer);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; words[i] = x >>> 0; }
  return buffer;
}

let sink;
async function timeBatch(run, sync, count) {
  const start = performance.now();
  if (sync) for (let i = 0; i < count; i++) sink = run(i);
  else for (let i = 0; i < count; i++) sink = await run(i);
  return performance.now() - start;
}

// Warms up for at least warmupMs (and two operations), then returns how many operations fill a slice.
async function calibrate(run, sync, warmupMs, sliceMs) {
  let count = 1, spent = 0, perOp = Infinity, calls = 0;
  while (spent < warmupMs || calls < 2) {
    const elapsed = await timeBatch(run, sync, count);
    spent += elapsed; perOp = elapsed / count; calls++;
    if (elapsed > sliceMs && spent >= warmupMs) break;
    count *= 2;
  }
  return Math.max(1, Math.round(sliceMs / perOp));
}

async function sha({ sizes, rounds, sliceMs }) {
  await init();
  const out = [];
  for (const size of sizes) {
    const buffer = filled(size, size);
    const bytes = new Uint8Array(buffer);
    const ours = sha256Hex(bytes);
    const theirs = toHex(await crypto.subtle.digest('SHA-256', bytes));
    if (ours !== theirs) throw new Error('sha256 of ' + size + ' bytes: wasm ' + ours + ' but crypto.subtle ' + theirs);
    const contenders = [
      { name: 'wasm sha256Hex', sync: true, run: () => sha256Hex(bytes) },
      { name: 'crypto.subtle.digest', sync: false, run: async () => toHex(await crypto.subtle.digest('SHA-256', bytes)) },
    ];
    const warmupMs = size >= (8 << 20) ? 0 : 150;
    const counts = [];
    for (const c of contenders) counts.push(await calibrate(c.run, c.sync, warmupMs, sliceMs));
    const times = contenders.map(() => []);
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < contenders.length; i++) {
        const c = (r + i) % contenders.length;
        times[c].push((await timeBatch(contenders[c].run, contenders[c].sync, counts[c])) / counts[c]);
      }
    }
    out.push({ size, contenders: contenders.map((c, i) => ({ name: c.name, opsPerRound: counts[i], msPerOpByRound: times[i] })) });
  }
  return out;
}

// The cache measurements of one realm (page or worker), by storage.
const caches = new Map();

// The floor: the file work of a save or a verified load with the browser's API alone (worker only: sync handles).
async function floorOps(small, large) {
  const root = await navigator.storage.getDirectory();
  const dir = await root.getDirectoryHandle('bench-floor', { create: true });
  const line = new TextEncoder().encode('0123456789abcdef ' + 'x'.repeat(181) + '\n');
  let n = 0;
  async function oneFile(name, bytes) {
    const handle = await dir.getFileHandle('.tmp-' + (n++), { create: true });
    const access = await handle.createSyncAccessHandle();
    try { access.write(bytes, { at: 0 }); access.flush(); } finally { access.close(); }
    await handle.move(dir, name);
  }
  const journal = await dir.getFileHandle('.journal-0', { create: true });
  async function append() {
    const access = await journal.createSyncAccessHandle();
    try { access.write(line, { at: access.getSize() }); access.flush(); } finally { access.close(); }
  }
  await oneFile('large', large);
  const largeFile = await dir.getFileHandle('large');
  return [
    { operation: 'floor', what: '1 KiB: one file', bytes: small.byteLength, run: () => oneFile('small', small) },
    { operation: 'floor', what: '1 KiB: two appends and one file', bytes: small.byteLength,
      run: async () => { await append(); await oneFile('small', small); await append(); } },
    { operation: 'floor', what: '8 MB: one file', bytes: large.byteLength, run: () => oneFile('large-' + (n % 3), large) },
    { operation: 'floor', what: '8 MB: SHA-256 and one file', bytes: large.byteLength,
      run: async () => { sink = await crypto.subtle.digest('SHA-256', large); await oneFile('large-' + (n % 3), large); } },
    { operation: 'floor', what: '8 MB: getFile() and SHA-256', bytes: large.byteLength,
      run: async () => crypto.subtle.digest('SHA-256', await (await largeFile.getFile()).arrayBuffer()) },
    { operation: 'floor', what: '8 MB: read-only handle and SHA-256', bytes: large.byteLength,
      run: async () => {
        const access = await largeFile.createSyncAccessHandle({ mode: 'read-only' });
        let bytes;
        try { bytes = new Uint8Array(access.getSize()); access.read(bytes, { at: 0 }); } finally { access.close(); }
        return crypto.subtle.digest('SHA-256', bytes);
      } },
  ];
}

async function cacheSetup({ storage, root, largeElements, warmupMs, sliceMs }) {
  const cache = new CacheManager({ root, storage });
  const small = new Uint8Array(filled(1024, 7));
  const large = new Float64Array(largeElements);
  for (let i = 0; i < large.length; i++) large[i] = Math.sin(i * 0.001) * 1e3 + i;
  const KEYS = 3;
  for (let k = 0; k < KEYS; k++) {
    await cache.save('fftw_wisdom', 'wisdom_' + k, small);
    await cache.save('state_profiles', 'profile_' + k, large);
  }
  const gotSmall = await cache.load('fftw_wisdom', 'wisdom_1');
  const gotLarge = await cache.load('state_profiles', 'profile_2');
  const same = (a, b) => a.constructor === b.constructor && a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
  if (!same(gotSmall, small)) throw new Error(storage + ': the 1 KiB entry loaded differs from the one saved');
  if (!same(gotLarge, large)) throw new Error(storage + ': the Float64Array entry loaded differs from the one saved');
  let n = 0;
  const ops = [
    { operation: 'save', what: '1 KiB bytes', bytes: small.byteLength, run: () => cache.save('fftw_wisdom', 'wisdom_' + (n++ % KEYS), small) },
    { operation: 'load', what: '1 KiB bytes', bytes: small.byteLength, run: () => cache.load('fftw_wisdom', 'wisdom_' + (n++ % KEYS)) },
    { operation: 'save', what: '8 MB Float64Array', bytes: large.byteLength, run: () => cache.save('state_profiles', 'profile_' + (n++ % KEYS), large) },
    { operation: 'load', what: '8 MB Float64Array', bytes: large.byteLength, run: () => cache.load('state_profiles', 'profile_' + (n++ % KEYS)) },
  ];
  const syncHandles = typeof FileSystemFileHandle !== 'undefined' && 'createSyncAccessHandle' in FileSystemFileHandle.prototype;
  if (storage === 'opfs' && syncHandles) ops.push(...await floorOps(small, new Uint8Array(large.buffer)));
  const counts = [];
  for (const op of ops) counts.push(await calibrate(op.run, false, warmupMs, sliceMs));
  caches.set(storage, { cache, ops, counts });
  const layer = storage === 'memory' ? 'memory' : isWorker && syncHandles ? 'sync access handles' : 'writables';
  return { layer, ops: ops.map((op, i) => ({ operation: op.operation, what: op.what, bytes: op.bytes, opsPerRound: counts[i] })) };
}

async function cacheRound({ storage, round }) {
  const { ops, counts } = caches.get(storage);
  const times = new Array(ops.length);
  for (let i = 0; i < ops.length; i++) {
    const o = (round + i) % ops.length;
    times[o] = (await timeBatch(ops[o].run, false, counts[o])) / counts[o];
  }
  return times;
}

async function cacheClose({ storage }) {
  await caches.get(storage).cache.close();
  caches.delete(storage);
  return true;
}

const local = { cacheSetup, cacheRound, cacheClose };

const isWorker = typeof WorkerGlobalScope !== 'undefined' && self instanceof WorkerGlobalScope;
if (isWorker) {
  self.onmessage = async (event) => {
    const { id, method, args } = event.data;
    try {
      self.postMessage({ id, result: await local[method](args) });
    } catch (error) {
      self.postMessage({ id, error: String(error && error.stack || error) });
    }
  };
  self.postMessage({ ready: true });
} else {
  async function workerRealm() {
    const worker = new Worker(import.meta.url, { type: 'module' });
    const pending = new Map();
    let next = 0;
    await new Promise((resolve, reject) => {
      worker.onerror = (e) => reject(new Error('worker: ' + e.message));
      worker.onmessage = (event) => {
        if (event.data.ready) { resolve(); return; }
        const { id, result, error } = event.data;
        const p = pending.get(id);
        pending.delete(id);
        if (error !== undefined) p.reject(new Error('in the worker: ' + error)); else p.resolve(result);
      };
    });
    const call = (method) => (args) => new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, method, args });
    });
    return { cacheSetup: call('cacheSetup'), cacheRound: call('cacheRound'), cacheClose: call('cacheClose'), terminate: () => worker.terminate() };
  }

  async function cacheBench({ rounds, largeElements, warmupMs, sliceMs }) {
    await init();
    const worker = await workerRealm();
    const configs = [];
    for (const where of ['main', 'worker']) {
      for (const storage of ['opfs', 'memory']) configs.push({ where, storage, realm: where === 'main' ? local : worker });
    }
    for (const c of configs) {
      ({ layer: c.layer, ops: c.ops } = await c.realm.cacheSetup({ storage: c.storage, root: 'bench-' + c.where, largeElements, warmupMs, sliceMs }));
      c.times = c.ops.map(() => []);
    }
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < configs.length; i++) {
        const c = configs[(r + i) % configs.length];
        const times = await c.realm.cacheRound({ storage: c.storage, round: r });
        times.forEach((t, o) => c.times[o].push(t));
      }
    }
    for (const c of configs) await c.realm.cacheClose({ storage: c.storage });
    worker.terminate();
    return configs.map((c) => ({ where: c.where, storage: c.storage, layer: c.layer, ops: c.ops.map((op, o) => ({ ...op, msPerOpByRound: c.times[o] })) }));
  }

  globalThis.daseBench = { sha, cacheBench, crossOriginIsolated: globalThis.crossOriginIsolated === true };
}
`;

interface ShaRun { size: number; contenders: { name: string; opsPerRound: number; msPerOpByRound: number[] }[] }
interface CacheRun {
  where: 'main' | 'worker';
  storage: 'opfs' | 'memory';
  /** What the realm's CacheManager writes through: 'writables' or 'sync access handles' (OPFS), 'memory'. */
  layer: string;
  ops: { operation: string; what: string; bytes: number; opsPerRound: number; msPerOpByRound: number[] }[];
}
declare const window: {
  daseBench: {
    sha(o: { sizes: number[]; rounds: number; sliceMs: number }): Promise<ShaRun[]>;
    cacheBench(o: { rounds: number; largeElements: number; warmupMs: number; sliceMs: number }): Promise<CacheRun[]>;
    crossOriginIsolated: boolean;
  };
};

function sizeLabel(bytes: number): string {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes >> 20} MiB`;
  if (bytes >= 1 << 10 && bytes % (1 << 10) === 0) return `${bytes >> 10} KiB`;
  if (bytes % 1e6 === 0) return `${bytes / 1e6} MB`;
  return `${bytes} B`;
}

const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);

/**
 * The worker's OPFS operations against their targets, their floors and the main thread, as comparisons
 * (speedup = the other's time / the worker's; a target is met when its time / ours >= 1).
 */
function targetComparisons(cacheRuns: CacheRun[]): ComparisonResult[] {
  const worker = cacheRuns.find((r) => r.where === 'worker' && r.storage === 'opfs')!;
  const main = cacheRuns.find((r) => r.where === 'main' && r.storage === 'opfs')!;
  const find = (run: CacheRun, what: string, operation: string) => run.ops.find((o) => o.what === what && o.operation === operation);
  if (!TARGETS.every((t) => t.floors.every((f) => find(worker, f, 'floor')))) {
    console.log('(no floors: this worker has no sync access handles)\n');
    return [];
  }
  console.log('The floors, measured in the same worker with the browser\'s API alone:');
  for (const [name, work] of Object.entries(FLOOR_WORK)) console.log(`  ${name}: ${work}`);
  console.log('');
  return TARGETS.map(({ what, operation, targetMs, floors }) => {
    const ours = find(worker, what, operation)!;
    const contenders = [
      { name: `target: ${targetMs} ms`, opsPerRound: 1, msPerOpByRound: ours.msPerOpByRound.map(() => targetMs) },
      ...floors.map((f) => ({ ...find(worker, f, 'floor')!, name: `floor: ${f}` })),
      { ...find(main, what, operation)!, name: `the main thread (${main.layer})` },
    ];
    return summarize({
      name: `browser: cache ${operation} ${what}${operation === 'load' ? ' (verified)' : ''}, worker, OPFS (${worker.layer})`,
      subject: { name: `ours, worker (${worker.layer})` }, baselines: contenders, bytesPerOp: ours.bytes,
      targets: [{ baseline: `target: ${targetMs} ms`, atLeast: 1 }],
    }, CACHE_ROUNDS, CACHE_SLICE_MS, [ours.opsPerRound, ...contenders.map((c) => c.opsPerRound)],
    [ours.msPerOpByRound, ...contenders.map((c) => c.msPerOpByRound)]);
  });
}

/** Runs the measurements in headless Chromium and prints their tables: the library's own, then the demo end to end. */
export async function benchBrowser(): Promise<Array<BrowserBenchRecord | ComparisonResult>> {
  const skipped = browserBenchSkipped();
  if (skipped) {
    console.log(`${skipped}\n`);
    return [];
  }
  const records = await benchLibrary();
  records.push(...await benchDemo(CHROMIUM, FLAGS));
  return records;
}

/** SHA-256 and the CacheManager in one page and its worker. */
async function benchLibrary(): Promise<Array<BrowserBenchRecord | ComparisonResult>> {
  const bundle = await build({
    stdin: { contents: BROWSER_CODE, resolveDir: root, sourcefile: 'browser-bench.js', loader: 'js' },
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent',
  });
  const script = bundle.outputFiles[0].text;
  const html = '<!doctype html><script type="module" src="/bench.js"></script>';
  const server = createServer((request, response) => {
    const js = request.url === '/bench.js';
    response.writeHead(200, {
      'content-type': js ? 'text/javascript' : 'text/html',
      // Cross-origin isolated: performance.now() at 5 µs rather than 100 µs, in the page and its worker.
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
      'cross-origin-resource-policy': 'same-origin',
    });
    response.end(js ? script : html);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  const profile = mkdtempSync(join(tmpdir(), 'dase-cache-bench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: FLAGS });
  const errors: string[] = [];
  try {
    const page = context.pages()[0] ?? await context.newPage();
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
    await page.goto(url);
    await page.waitForFunction(() => window.daseBench !== undefined, undefined, { timeout: 20_000 });
    // navigator.userAgent says 156.0.0.0 (reduced user agent): the full version comes from the DevTools protocol.
    const cdp = await context.newCDPSession(page);
    const chromiumVersion = ((await cdp.send('Browser.getVersion')) as { product: string }).product;
    await cdp.detach();
    const isolated = await page.evaluate(() => window.daseBench.crossOriginIsolated);
    console.log(`headless ${chromiumVersion}, fresh profile, page on ${url} (cross-origin isolated: ${isolated})\n`);

    const records: Array<BrowserBenchRecord | ComparisonResult> = [];

    // 1. SHA-256 in the page.
    const shaRuns = await page.evaluate((o) => window.daseBench.sha(o), { sizes: SHA_SIZES, rounds: SHA_ROUNDS, sliceMs: SHA_SLICE_MS });
    const shaRows: string[][] = [];
    const subtleFaster: boolean[] = [];
    for (const run of shaRuns) {
      const [wasm, subtle] = run.contenders;
      const ratios = subtle.msPerOpByRound.map((t, r) => t / wasm.msPerOpByRound[r]);
      const speedup = median(ratios);
      subtleFaster.push(speedup < 1);
      for (const c of run.contenders) {
        const ms = median(c.msPerOpByRound);
        const record: BrowserTiming = {
          name: `sha256 ${sizeLabel(run.size)}: ${c.name}`, kind: 'sha256', operation: c.name, where: 'main', storage: 'none',
          bytes: run.size, rounds: SHA_ROUNDS, opsPerRound: c.opsPerRound, msPerOpByRound: c.msPerOpByRound, medianMs: ms,
          mbPerSecond: mbps(run.size, ms),
        };
        if (c === subtle) record.wasmSpeedup = speedup;
        records.push(record);
        shaRows.push([c === wasm ? sizeLabel(run.size) : '', c.name, formatTime(ms), record.mbPerSecond.toFixed(1),
          c === subtle ? `${speedup.toFixed(2)}x` : '']);
      }
    }
    console.log(`SHA-256 of a whole buffer in the page  [${SHA_ROUNDS} interleaved rounds of ~${SHA_SLICE_MS} ms slices; wasm/subtle = subtle time / wasm time, > 1: WASM faster]`);
    console.log(tableLines(['size', 'contender', 'median', 'MB/s', 'wasm/subtle'], shaRows).join('\n'));
    let from = subtleFaster.length;
    while (from > 0 && subtleFaster[from - 1]) from--;
    const crossoverBytes = from < SHA_SIZES.length ? SHA_SIZES[from] : null;
    records.push({ name: 'sha256 crossover', kind: 'sha256-crossover', crossoverBytes, sizes: SHA_SIZES, chromium: chromiumVersion, crossOriginIsolated: isolated });
    console.log(crossoverBytes === null
      ? `\ncrossover: none; the WASM sha256Hex is faster than crypto.subtle.digest up to ${sizeLabel(SHA_SIZES.at(-1)!)}\n`
      : `\ncrossover: crypto.subtle.digest is faster from ${sizeLabel(crossoverBytes)} up (of ${SHA_SIZES.map(sizeLabel).join(', ')})\n`);

    // 2. The CacheManager, main thread and worker, OPFS and memory.
    const cacheRuns = await page.evaluate((o) => window.daseBench.cacheBench(o),
      { rounds: CACHE_ROUNDS, largeElements: LARGE_ELEMENTS, warmupMs: CACHE_WARMUP_MS, sliceMs: CACHE_SLICE_MS });
    const cacheRows: string[][] = [];
    const order = (run: CacheRun) => (run.storage === 'opfs' ? 0 : 1);
    for (const what of ['1 KiB bytes', '8 MB Float64Array']) {
      for (const operation of ['save', 'load']) {
        for (const run of [...cacheRuns].sort((a, b) => order(a) - order(b))) {
          const op = run.ops.find((o) => o.what === what && o.operation === operation)!;
          const ms = median(op.msPerOpByRound);
          const record: BrowserTiming = {
            name: `cache ${operation} ${what}, ${run.where}, ${run.storage}`, kind: 'cache', operation, where: run.where, storage: run.storage,
            layer: run.layer, bytes: op.bytes, rounds: CACHE_ROUNDS, opsPerRound: op.opsPerRound, msPerOpByRound: op.msPerOpByRound, medianMs: ms,
            mbPerSecond: mbps(op.bytes, ms),
          };
          records.push(record);
          const lo = Math.min(...op.msPerOpByRound), hi = Math.max(...op.msPerOpByRound);
          cacheRows.push([`${operation} ${what}${operation === 'load' ? ' (verified)' : ''}`, run.where, run.layer, ms.toFixed(3),
            record.mbPerSecond.toFixed(1), `(${lo.toFixed(2)}..${hi.toFixed(2)})`, String(op.opsPerRound)]);
        }
      }
    }
    console.log(`CacheManager in the browser  [${CACHE_ROUNDS} rounds, main/worker x opfs/memory interleaved, operations rotated; 3 keys overwritten in turn]`);
    console.log(tableLines(['operation', 'where', 'storage', 'median ms', 'MB/s', '(min..max ms)', 'ops/round'], cacheRows).join('\n') + '\n');
    records.push(...targetComparisons(cacheRuns));
    if (errors.length > 0) throw new Error(`the page logged errors:\n${errors.join('\n')}`);
    return records;
  } finally {
    await context.close();
    await new Promise((done) => server.close(done));
    rmSync(profile, { recursive: true, force: true });
  }
}
