// What the cache promises under valid input that looks like its own files, after crashes, on full disks and
// at every kind of exit: each test here failed before the fix it guards.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CacheManager, CacheError, DEFAULT_CATEGORIES, laplacian, memoize } from '../src/node.js';
import { CacheManagerCore } from '../src/cache/manager.js';
import type { Files } from '../src/cache/files.js';
import { checksum } from '../src/platform/node.js';
import { NodeFiles } from '../src/platform/node-files.js';
import { expectIndexAtRest } from './fixtures/index-at-rest.js';
import { sleep } from './fixtures/util.js';

let root: string;
let cache: CacheManager;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'dase-cache-trust-'));
  cache = new CacheManager({ root });
});

afterEach(async () => {
  await cache.close().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

const REPO = new URL('..', import.meta.url).pathname;
const indexOf = (category: string) => JSON.parse(readFileSync(join(root, category, 'index.json'), 'utf8'));

/** Runs a module body in a fresh Node process (through tsx, importing the sources), with the cache root as argv[1]. */
function runScript(body: string): { status: number | null; stderr: string } {
  const script = `import { CacheManager, memoize, laplacian } from ${JSON.stringify(`${REPO}src/node.ts`)};\nconst root = process.argv[1];\n${body}`;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, root], { cwd: REPO, encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) throw new Error(`script exited with ${result.status}: ${result.stderr}`);
  return { status: result.status, stderr: result.stderr };
}

describe('keys that look like the cache\'s own files', () => {
  it('stores key "index" with every value kind in every kind of category, beside the category\'s index.json', async () => {
    await cache.save('mission_graph', 'other', { kept: true });
    await cache.save('mission_graph', 'index', { any: 'json' });
    await cache.save('stencils', 'index', new Float64Array([1, 2]));
    await cache.save('fftw_wisdom', 'index', new Uint8Array([7]));
    await cache.save('surrogates', 'index', { any: 'json' });
    await cache.save('surrogates', 'index.json', { w: new Float32Array([1]) });
    expect(await cache.load('mission_graph', 'index')).toEqual({ any: 'json' });
    expect(await cache.load('mission_graph', 'other')).toEqual({ kept: true });
    await cache.close();
    expect(indexOf('mission_graph').entries.index.file).toBe('~index.json');
    expectIndexAtRest(root);

    const again = new CacheManager({ root });
    expect(await again.listKeys('mission_graph')).toEqual(['index', 'other']);
    expect(await again.load('surrogates', 'index')).toEqual({ any: 'json' });
    expect(await again.load('fftw_wisdom', 'index')).toEqual(new Uint8Array([7]));
    expect((await again.validate()).ok).toBe(true);
    await again.close();
  });

  it('gives device names Windows reserves a file it can create, and adopts it back by its key', async () => {
    await cache.save('mission_graph', 'CON', [1]);
    await cache.save('mission_graph', 'nul.x', [2]);
    expect(readdirSync(join(root, 'mission_graph')).filter((n) => !n.startsWith('.')).sort()).toEqual(['index.json', '~CON.json', '~nul.x.json']);
    await cache.close();
    rmSync(join(root, 'mission_graph', 'index.json'));
    const again = new CacheManager({ root });
    await again.validate({ repair: true });
    expect(await again.load('mission_graph', 'CON')).toEqual([1]);
    expect(await again.load('mission_graph', 'nul.x')).toEqual([2]);
    await again.close();
    expectIndexAtRest(root);
  });
});

describe('rebuilding a lost index from the files alone', () => {
  it('gives back exactly what load and loadMetadata gave, for every value kind, and keeps memoized results current', async () => {
    const values: [string, string, unknown, Record<string, unknown> | undefined][] = [
      ['fractional_kernels', 'record', { a: new Float64Array([1, 2]), b: { data: new Int16Array([3, 4, 5, 6]), shape: [2, 2] } }, { alpha: 0.5 }],
      ['fractional_kernels', 'nd1', { data: new Float32Array([1, 2, 3]), shape: [3] }, undefined],
      ['fractional_kernels', 'clamped', new Uint8ClampedArray([0, 255]), { note: 'pixels' }],
      ['fractional_kernels', 'big', new BigInt64Array([-1n, 2n]), undefined],
      ['stencils', 'csr', laplacian([4, 4]), { shape: [4, 4] }],
      ['mission_graph', 'graph', { nodes: [1, 2], edges: [[1, 2]] }, { source: 'test' }],
      ['mission_graph', 'plain', [1, 'two', null], undefined],
      ['fftw_wisdom', 'buffer', new Uint8Array([1, 2, 3]).buffer, undefined],
      ['fftw_wisdom', 'wisdom', new Uint8Array([4, 5]), { planner: 'measure' }],
      ['surrogates', 'ckpt', { model_state_dict: { w: new Float32Array([0.5]) }, epoch: 3, loss: 0.25 }, { run: 7 }],
      ['surrogates', 'tensor', { data: new Float64Array([1, 2]), shape: [1, 2] }, undefined],
      ['mission_graph', 'huge-meta', { x: 1 }, { blob: 'x'.repeat(70_000) }],
      ['stencils', 'huge-meta', new Float64Array([1]), { blob: 'y'.repeat(70_000) }],
    ];
    for (const [category, key, value, metadata] of values) await cache.save(category, key, value, metadata ? { metadata } : {});
    const gl = memoize((n: number) => new Float64Array(n).fill(n), { cache, category: 'fractional_kernels', name: 'filled', policy: 'always' });
    await gl(5);
    const before = await Promise.all(values.map(async ([c, k]) => [await cache.load(c, k), await cache.loadMetadata(c, k)]));
    const memoMetadata = await cache.loadMetadata('fractional_kernels', gl.keyFor(5));
    await cache.close();

    for (const category of Object.keys(DEFAULT_CATEGORIES)) {
      for (const name of readdirSync(join(root, category))) {
        if (name === 'index.json' || name.startsWith('.journal-')) rmSync(join(root, category, name));
      }
    }
    const again = new CacheManager({ root });
    const report = await again.validate({ repair: true });
    expect(report.categories.mission_graph.actions).toContain('adopted graph');
    const after = await Promise.all(values.map(async ([c, k]) => [await again.load(c, k), await again.loadMetadata(c, k)]));
    after.forEach(([value, metadata], i) => {
      expect(value, values[i][1]).toStrictEqual(before[i][0]);
      expect(metadata, values[i][1]).toStrictEqual(before[i][1]);
    });
    expect(await again.loadMetadata('fractional_kernels', gl.keyFor(5))).toStrictEqual(memoMetadata);
    const served = await memoize((n: number) => new Float64Array(n), { cache: again, category: 'fractional_kernels', name: 'filled', policy: 'always' }).withInfo(5);
    expect(served.source).toBe('disk');
    expect((await again.validate()).ok).toBe(true);
    await again.close();
    expectIndexAtRest(root);
  });
});

describe('repair after a writer died', () => {
  it('removes the temporary files of a writer that is provably dead at once', async () => {
    await cache.save('stencils', 'kept', new Float64Array([1]));
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const files = new NodeFiles(root);
    const mine = await files.writeTemp('stencils', new Uint8Array([1]));
    const theirs = mine.replace(`.tmp-${process.pid}-`, `.tmp-${dead.stdout}-`);
    writeFileSync(join(root, theirs), 'partial');
    const report = await cache.validate();
    expect(report.categories.stencils.problems).toEqual([{ problem: 'temp_file', file: theirs.split('/')[1], repair: 'remove' }]);
    await cache.validate({ repair: true });
    expect(existsSync(join(root, theirs))).toBe(false);
    expect(existsSync(join(root, mine))).toBe(true); // this process is alive: its file may be a save in progress
    rmSync(join(root, mine));
    expect((await cache.validate()).ok).toBe(true);
  });
});

describe('index.json for outside readers', () => {
  it('lists a script\'s saves when it ends without close()', () => {
    const run = runScript(`const cache = new CacheManager({ root });
      await cache.save('stencils', 'lap', laplacian([8, 8]));
      await cache.save('mission_graph', 'g', { a: 1 });
      await cache.save('mission_graph', 'g', { a: 2 });`);
    expect(run.stderr).toBe('');
    expect(Object.keys(indexOf('stencils').entries)).toEqual(['lap']);
    expectIndexAtRest(root);
  });

  it('lists them, and the memoized results still being written, when the script calls process.exit()', () => {
    const run = runScript(`const cache = new CacheManager({ root });
      await cache.save('mission_graph', 'g', { a: 1 });
      const slow = memoize((n) => { const t = Date.now(); while (Date.now() - t < 60); return new Float64Array(n); },
        { cache, category: 'stencils', name: 'slow' });
      const info = await slow.withInfo(4);
      if (!info.storing) throw new Error('expected a background write');
      process.exit(0);`);
    expect(run.stderr).toBe('');
    expect(Object.keys(indexOf('mission_graph').entries)).toEqual(['g']);
    expect(Object.keys(indexOf('stencils').entries)).toEqual(['slow_4']);
    expectIndexAtRest(root);
  });

  it('reflects an overwrite within the flush interval while the manager stays open', async () => {
    const open = new CacheManager({ root, flushIntervalMs: 50 });
    await open.save('mission_graph', 'g', { v: 1 });
    await open.save('mission_graph', 'g', { v: 2 });
    const expected = `sha256:${checksum(readFileSync(join(root, 'mission_graph', 'g.json')))}`;
    for (let i = 0; i < 100 && indexOf('mission_graph').entries.g?.checksum !== expected; i++) await sleep(20);
    expect(indexOf('mission_graph').entries.g.checksum).toBe(expected);
    expectIndexAtRest(root);
    await open.close();
  });
});

describe('failed writes', () => {
  const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });

  /** NodeFiles whose named operations fail with ENOSPC while `full` is set. */
  function fullDisk(operations: string[]) {
    const state = { full: false };
    const files = new Proxy(new NodeFiles(root), {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (state.full && operations.includes(String(name))) throw enospc();
          return value.apply(target, args);
        };
      },
    }) as Files;
    return { state, cache: new CacheManagerCore(files, { checksum }, {}) };
  }

  it('throws a CacheError with the code, removes what it wrote and leaves earlier entries as they were', async () => {
    for (const failing of ['writeTemp', 'append', 'rename']) {
      rmSync(root, { recursive: true, force: true });
      const { state, cache: core } = fullDisk([failing]);
      await core.save('mission_graph', 'a', { v: 1 });
      state.full = true;
      const error = await core.save('mission_graph', 'a', { v: 2 }, { metadata: { m: 1 } }).catch((e) => e);
      expect(error, failing).toBeInstanceOf(CacheError);
      expect(error.code, failing).toBe('ENOSPC');
      expect(readdirSync(join(root, 'mission_graph')).filter((n) => n.startsWith('.tmp-')), failing).toEqual([]);
      expect(await core.load('mission_graph', 'a'), failing).toEqual({ v: 1 });
      state.full = false;
      await core.close();
      expectIndexAtRest(root);
    }
  });

  it('close() on a full disk reports the problem and keeps every acknowledged save in the journal', async () => {
    const { state, cache: core } = fullDisk(['writeAtomic', 'writeTemp']);
    await core.save('mission_graph', 'a', { v: 1 });
    state.full = true;
    const error = await core.close().catch((e) => e);
    expect(error).toBeInstanceOf(CacheError);
    expect(error.code).toBe('ENOSPC');
    expect(readdirSync(join(root, 'mission_graph')).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    const again = new CacheManager({ root });
    expect(await again.load('mission_graph', 'a')).toEqual({ v: 1 });
    await again.close();
    expectIndexAtRest(root);
  });
});

describe('memoize and close()', () => {
  it("close() waits for 'auto' background writes, which are then on disk for the next process", async () => {
    const slow = memoize((n: number) => { const t = Date.now(); while (Date.now() - t < 60); return new Float64Array(n).fill(1); },
      { cache, category: 'stencils', name: 'slow' });
    const info = await slow.withInfo(16);
    expect(info).toMatchObject({ stored: false, storing: true });
    await cache.close();
    expect(info).toMatchObject({ stored: true, storing: false });
    expectIndexAtRest(root);
    const again = new CacheManager({ root });
    expect(await again.load('stencils', 'slow_16')).toEqual(new Float64Array(16).fill(1));
    await again.close();
  });
});
