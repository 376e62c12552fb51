// The demo page: the time-fractional diffusion of examples/diffusion-model.ts (the model the Node example
// runs) as an animated heat map, its memoized steps (computed, or loaded from the origin-private file
// system) with their times, and the cache's statistics. The job runs in a worker (worker.ts).
//
// Query options: alpha, grid, steps (the model's parameters); wasm=url (load build/kernels-*.wasm with
// init({ url }) instead of the embedded bytes); simd=0 (the scalar build); root (the cache's OPFS folder);
// storage=memory; autorun=0.
//
// window.daseDemo exposes what a test needs, so that it need not read the page's text: see DemoApi.

import * as dase from '../src/index.js';
import { CacheManager, type CacheStats } from '../src/index.js';
import { DEFAULT_BROWSER_ROOT } from '../src/platform/browser-cache.js';
import { DEFAULT_PARAMS, checkParams, type DiffusionParams, type JobStep } from '../examples/diffusion-model.js';
import { drawField, drawLegend } from './heat-map.js';
import { listTree, readBase64 } from './opfs-inspect.js';
import type { KernelHashes, Reply, Request, RunReport, StorageKind, WasmSource, WorkerReady } from './protocol.js';

/** What the page exposes as window.daseDemo. */
export interface DemoApi {
  /** Resolves when the worker has loaded the kernels. */
  ready: Promise<WorkerReady>;
  /** The report of the latest run started (the one started by the page load, until another is). */
  lastRun: Promise<RunReport>;
  /** Runs the job with these parameters (default: the controls'), and shows it. */
  run(params?: Partial<DiffusionParams>): Promise<RunReport>;
  /** SHA-256 of the kernel checks' outputs (demo/kernel-checks.ts), computed in the worker. */
  kernelHashes(): Promise<KernelHashes>;
  /** Every file under the cache's root (or `folder`) in OPFS, read with the browser's own API. */
  listFiles(folder?: string): Promise<string[]>;
  /** A file under the cache's root (or `folder`), as base64, or null. */
  readFile(path: string, folder?: string): Promise<string | null>;
  /** Statistics read by the page's own CacheManager: the same OPFS folder as the worker's. */
  stats(): Promise<CacheStats>;
  /** How many heat-map frames have been drawn (for a screenshot that shows one). */
  framesDrawn: number;
  /** The library itself, as a page imports it. */
  lib: typeof dase;
}

declare global {
  interface Window { daseDemo: DemoApi }
}

const query = new URLSearchParams(location.search);
const root = query.get('root') ?? DEFAULT_BROWSER_ROOT;
const wasm: WasmSource = query.get('wasm') === 'url' ? 'url' : 'embedded';
const simd = query.has('simd') ? query.get('simd') !== '0' : undefined;
const hasOpfs = typeof navigator.storage?.getDirectory === 'function';
const storage: StorageKind = query.get('storage') === 'memory' || !hasOpfs ? 'memory' : 'opfs';
const PERSIST_CHOICE = 'dase-demo-persist';
const COMPUTED_RUNS = 'dase-demo-computed-runs';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  form: $<HTMLFormElement>('controls'),
  alpha: $<HTMLInputElement>('alpha'),
  alphaOut: $<HTMLOutputElement>('alpha-out'),
  grid: $<HTMLSelectElement>('grid'),
  steps: $<HTMLSelectElement>('steps'),
  run: $<HTMLButtonElement>('run'),
  forget: $<HTMLButtonElement>('forget'),
  clear: $<HTMLButtonElement>('clear'),
  persist: $<HTMLInputElement>('persist'),
  persistState: $<HTMLSpanElement>('persist-state'),
  status: $<HTMLParagraphElement>('status'),
  heat: $<HTMLCanvasElement>('heat'),
  legend: $<HTMLCanvasElement>('legend'),
  frameLabel: $<HTMLParagraphElement>('frame-label'),
  stepsBody: $<HTMLTableSectionElement>('steps-body'),
  stepsFoot: $<HTMLTableSectionElement>('steps-foot'),
  statsBody: $<HTMLTableSectionElement>('stats-body'),
  statsFoot: $<HTMLTableSectionElement>('stats-foot'),
  kernel: $<HTMLParagraphElement>('kernel-info'),
};

// ---- the worker, as promises ----

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
let nextId = 0;

worker.onmessage = (event: MessageEvent<Reply>) => {
  const reply = event.data;
  const waiter = waiting.get(reply.id);
  waiting.delete(reply.id);
  if (reply.ok) waiter?.resolve(reply.value);
  else waiter?.reject(Object.assign(new Error(reply.error.message), reply.error));
};
worker.onerror = (event) => {
  const error = new Error(`the demo's worker failed: ${event.message}`);
  for (const waiter of waiting.values()) waiter.reject(error);
  waiting.clear();
  showStatus(error.message, true);
};

function ask<T>(request: Request): Promise<T> {
  const id = ++nextId;
  return new Promise<T>((resolve, reject) => {
    waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
    worker.postMessage({ id, ...request });
  });
}

// ---- what is shown ----

function showStatus(text: string, error = false): void {
  ui.status.textContent = text;
  ui.status.classList.toggle('error', error);
}

function ms(x: number): string {
  return x >= 100 ? `${x.toFixed(0)} ms` : x >= 1 ? `${x.toFixed(1)} ms` : `${(x * 1000).toFixed(0)} µs`;
}

function describeSource(step: JobStep): string {
  if (step.source === 'disk') return storage === 'opfs' ? 'loaded from OPFS' : 'loaded from the cache';
  if (step.source === 'memory') return 'from memory';
  return step.stored ? 'computed, stored' : 'computed (faster than loading: kept in memory only)';
}

function row(cells: Array<string | [string, string]>): HTMLTableRowElement {
  const tr = document.createElement('tr');
  for (const cell of cells) {
    const td = document.createElement('td');
    const [text, className] = typeof cell === 'string' ? [cell, ''] : cell;
    td.textContent = text;
    if (className) td.className = className;
    tr.append(td);
  }
  return tr;
}

/** Per parameter set, the end-to-end time of the last run that computed the simulation (kept across loads). */
function rememberedComputeMs(report: RunReport): number | undefined {
  const all = JSON.parse(localStorage.getItem(COMPUTED_RUNS) ?? '{}') as Record<string, number>;
  const key = JSON.stringify(report.params);
  if (report.steps.some((s) => s.label === 'simulation' && s.source === 'computed')) {
    all[key] = report.jobMs;
    localStorage.setItem(COMPUTED_RUNS, JSON.stringify(all));
    return undefined;
  }
  return all[key];
}

function showRun(report: RunReport): void {
  ui.stepsBody.replaceChildren(...report.steps.map((step) => {
    const tr = row([step.label, [describeSource(step), `source-${step.source}`], ms(step.ms), [step.reason, 'reason']]);
    tr.title = step.key;
    return tr;
  }));
  const foot = [row(['the job, end to end', '', ms(report.jobMs), ''])];
  const computedMs = rememberedComputeMs(report);
  if (computedMs !== undefined) {
    foot.push(row(['the same job when it was computed', `${(computedMs / report.jobMs).toFixed(0)}× slower`, ms(computedMs), '']));
  }
  ui.stepsFoot.replaceChildren(...foot);
  showStats(report.stats);
  startAnimation(report);
}

function showStats(stats: CacheStats): void {
  ui.statsBody.replaceChildren(...Object.entries(stats.categories)
    .filter(([, c]) => c.total_entries > 0)
    .map(([name, c]) => row([name, String(c.total_entries), `${c.total_size_mb.toFixed(3)} MB`])));
  const entries = Object.values(stats.categories).reduce((n, c) => n + c.total_entries, 0);
  ui.statsFoot.replaceChildren(row([`${stats.total_categories} categories`, String(entries), `${stats.total_size_mb.toFixed(3)} MB`]));
}

function showKernel(ready: WorkerReady): void {
  const { kernel } = ready;
  const from = ready.wasm === 'url' ? `loaded with init({ url }) from kernels-${kernel.build}.wasm` : 'instantiated from the embedded bytes';
  const where = ready.storage === 'opfs' ? `the origin-private file system, folder ${ready.root}` : 'memory (this browser has no OPFS, or storage=memory)';
  ui.kernel.textContent = `Kernels: the ${kernel.build} WASM build (sha256 ${kernel.wasmSha256.slice(0, 12)}…), ${from}. Cache: ${where}.`;
}

// ---- the heat map ----

let animation: { report: RunReport; frame: number; shownAt: number } | undefined;
const FRAME_MS = 160;
const HOLD_LAST_MS = 1200;

function startAnimation(report: RunReport): void {
  const first = animation === undefined;
  animation = { report, frame: 0, shownAt: 0 };
  if (first) requestAnimationFrame(tick);
}

function tick(now: number): void {
  const a = animation!;
  const frames = a.report.frames.length;
  const hold = a.frame === frames - 1 ? HOLD_LAST_MS : FRAME_MS;
  if (a.shownAt === 0 || now - a.shownAt >= hold) {
    if (a.shownAt !== 0) a.frame = (a.frame + 1) % frames;
    const [, grid] = a.report.snapshots.shape;
    drawField(ui.heat, a.report.snapshots.data, grid, a.frame, 1);
    const { dt, alpha } = a.report.params;
    const step = a.report.frames[a.frame];
    ui.frameLabel.textContent = `α = ${alpha}, ${grid}×${grid} grid — step ${step} of ${a.report.params.steps}, t = ${(step * dt).toFixed(3)}`;
    a.shownAt = now;
    window.daseDemo.framesDrawn++;
  }
  requestAnimationFrame(tick);
}

// ---- controls ----

function paramsFromControls(): DiffusionParams {
  return { ...DEFAULT_PARAMS, alpha: Number(ui.alpha.value), grid: Number(ui.grid.value), steps: Number(ui.steps.value) };
}

function setControls(params: DiffusionParams): void {
  ui.alpha.value = String(params.alpha);
  ui.alphaOut.value = String(params.alpha);
  for (const [select, value] of [[ui.grid, params.grid], [ui.steps, params.steps]] as const) {
    if (!Array.from(select.options).some((o) => o.value === String(value))) select.append(new Option(String(value)));
    select.value = String(value);
  }
}

function busy(on: boolean): void {
  for (const button of [ui.run, ui.forget, ui.clear]) button.disabled = on;
}

async function run(overrides: Partial<DiffusionParams> = {}): Promise<RunReport> {
  const params = checkParams({ ...paramsFromControls(), ...overrides });
  setControls(params);
  busy(true);
  showStatus(`Running α = ${params.alpha}, ${params.grid}×${params.grid}, ${params.steps} steps…`);
  try {
    await api.ready;
    const report = await ask<RunReport>({ type: 'run', params });
    showRun(report);
    const loaded = report.steps.filter((s) => s.source === 'disk').length;
    showStatus(`Done in ${ms(report.jobMs)}: ${loaded} of ${report.steps.length} steps loaded from the cache. Reload the page to run it again from ${storage === 'opfs' ? 'OPFS' : 'the cache'}.`);
    return report;
  } catch (error) {
    showStatus(`The run failed: ${(error as Error).message}`, true);
    throw error;
  } finally {
    busy(false);
  }
}

async function housekeeping(request: Request, done: string): Promise<void> {
  busy(true);
  try {
    await ask(request);
    showStats(await api.stats());
    showStatus(done);
  } catch (error) {
    showStatus((error as Error).message, true);
  } finally {
    busy(false);
  }
}

// The persistence request must come from a page (navigator.storage.persist() is not in workers); the
// browser may grant it silently, ask the user, or refuse.
async function askPersistence(): Promise<void> {
  if (storage !== 'opfs') {
    ui.persistState.textContent = '(no OPFS here)';
    return;
  }
  const granted = await new CacheManager({ root, persist: true }).persisted();
  ui.persistState.textContent = granted ? 'granted' : 'not granted: the browser may evict the cache under storage pressure';
}

let pageCache: CacheManager | undefined;

const api: DemoApi = {
  ready: ask<WorkerReady>({ type: 'init', wasm, simd, root, storage }),
  lastRun: Promise.resolve(undefined as unknown as RunReport),
  run: (params) => (api.lastRun = run(params)),
  kernelHashes: () => ask<KernelHashes>({ type: 'hashes' }),
  listFiles: (folder = root) => (storage === 'opfs' ? listTree(folder) : Promise.resolve([])),
  readFile: (path, folder = root) => (storage === 'opfs' ? readBase64(`${folder}/${path}`) : Promise.resolve(null)),
  stats: () => (pageCache ??= new CacheManager({ root, storage })).getStats(),
  framesDrawn: 0,
  lib: dase,
};
window.daseDemo = api;

ui.alpha.addEventListener('input', () => { ui.alphaOut.value = ui.alpha.value; });
ui.form.addEventListener('submit', (event) => {
  event.preventDefault();
  api.run().catch(() => undefined);
});
ui.forget.addEventListener('click', () => void housekeeping({ type: 'forget', params: paramsFromControls() },
  'This job\'s entries were removed: the next run computes everything again.'));
ui.clear.addEventListener('click', () => void housekeeping({ type: 'clear' }, 'The cache was cleared.'));
ui.persist.checked = localStorage.getItem(PERSIST_CHOICE) === '1';
ui.persist.addEventListener('change', () => {
  localStorage.setItem(PERSIST_CHOICE, ui.persist.checked ? '1' : '0');
  if (ui.persist.checked) void askPersistence();
  else ui.persistState.textContent = '';
});

drawLegend(ui.legend);
const initial: DiffusionParams = { ...DEFAULT_PARAMS };
for (const name of ['alpha', 'grid', 'steps'] as const) {
  if (query.has(name)) initial[name] = Number(query.get(name));
}
setControls(initial);
if (ui.persist.checked) void askPersistence();
api.ready.then(showKernel, (error: Error) => showStatus(`The kernels could not be loaded: ${error.message}`, true));
if (query.get('autorun') !== '0') api.run(initial).catch(() => undefined);
else showStatus('Ready: choose α and the grid, then Run.');
