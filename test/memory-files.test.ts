// The browser's CacheManager on its in-memory storage, run here in Node: the same layout and index.json as
// Node's CacheManager, quota errors that leave earlier entries intact, and the options' checks. (Its OPFS
// storage runs in real Chromium: test/browser.test.ts.)
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CacheError, CacheManager as NodeCacheManager, glWeights, laplacian } from '../src/node.js';
import { CacheManager } from '../src/platform/browser-cache.js';
import { checksum } from '../src/platform/browser.js';
import { CacheManagerCore } from '../src/cache/manager.js';
import { MemoryFiles } from '../src/platform/memory-files.js';
import { nodeSha256Hex } from './fixtures/util.js';

let roots = 0;
const freshRoot = () => `memory-test-${process.pid}-${++roots}`;
const decoder = new TextDecoder();

const nodeRoots: string[] = [];
afterEach(() => {
  for (const root of nodeRoots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** What the same saves leave in a category, on either storage: its data files and index.json's fields. */
function shapeOf(index: Record<string, any>, files: string[]) {
  const entries = Object.fromEntries(Object.entries(index.entries as Record<string, any>).map(([key, e]) =>
    [key, { file: e.file, size_bytes: e.size_bytes, checksum: e.checksum, value: e.value, metadata: e.metadata, fields: Object.keys(e).sort() }]));
  return {
    fields: Object.keys(index).sort(), version: index.version, total_entries: index.total_entries, total_size_mb: index.total_size_mb,
    entries, files: files.filter((f) => !f.startsWith('.')).sort(),
  };
}

async function fill(cache: CacheManagerCore): Promise<void> {
  await cache.save('fractional_kernels', 'kernel_0.5_0.01_1000', glWeights(0.5, 1000), { metadata: { alpha: 0.5 } });
  await cache.save('stencils', 'laplacian_2d_16_16_dirichlet', laplacian([16, 16]));
  await cache.save('mission_graph', 'plan', { nodes: ['a', 'b'], edges: [[0, 1]] });
  await cache.save('fftw_wisdom', 'plan_1024', new Uint8Array([1, 2, 3, 4]));
  await cache.save('surrogates', 'model', { layer: { weight: new Float32Array([0.5, -1]) } });
}

describe('the browser CacheManager, in memory', () => {
  it('writes the same files and index.json as Node\'s CacheManager on disk', async () => {
    const nodeRoot = mkdtempSync(join(tmpdir(), 'dase-cache-memory-vs-node-'));
    nodeRoots.push(nodeRoot);
    const onDisk = new NodeCacheManager({ root: nodeRoot });
    const root = freshRoot();
    const inMemory = new CacheManager({ storage: 'memory', root });
    await fill(onDisk);
    await fill(inMemory);
    await onDisk.close();
    await inMemory.close();
    const files = new MemoryFiles(root);
    expect((await files.list('')).sort()).toEqual(readdirSync(nodeRoot).sort());
    for (const category of readdirSync(nodeRoot)) {
      const nodeIndex = JSON.parse(readFileSync(join(nodeRoot, category, 'index.json'), 'utf8'));
      const memoryIndex = JSON.parse(decoder.decode(await files.read(`${category}/index.json`)));
      expect(shapeOf(memoryIndex, await files.list(category))).toEqual(shapeOf(nodeIndex, readdirSync(join(nodeRoot, category))));
      for (const entry of Object.values(memoryIndex.entries as Record<string, any>)) {
        const bytes = (await files.read(`${category}/${entry.file}`))!;
        expect(entry.checksum).toBe(`sha256:${nodeSha256Hex(bytes)}`);
        expect(bytes).toEqual(new Uint8Array(readFileSync(join(nodeRoot, category, entry.file))));
      }
    }
  });

  it('loads what it saved, verified, and reports the same stats', async () => {
    const cache = new CacheManager({ storage: 'memory', root: freshRoot() });
    await fill(cache);
    expect(await cache.load('fractional_kernels', 'kernel_0.5_0.01_1000')).toEqual(glWeights(0.5, 1000));
    expect(await cache.load('fftw_wisdom', 'plan_1024')).toEqual(new Uint8Array([1, 2, 3, 4]));
    expect(await cache.listKeys('stencils')).toEqual(['laplacian_2d_16_16_dirichlet']);
    expect(await cache.loadMetadata('fractional_kernels', 'kernel_0.5_0.01_1000')).toEqual({ alpha: 0.5 });
    const stats = await cache.getStats();
    expect(stats.total_categories).toBe(8);
    expect(stats.categories.stencils.total_entries).toBe(1);
    expect((await cache.validate()).ok).toBe(true);
    expect(cache.root).toMatch(/^memory:\//);
    await cache.close();
  });

  it('shares one root between managers of one realm, each seeing the others\' saves', async () => {
    const root = freshRoot();
    const a = new CacheManager({ storage: 'memory', root });
    const b = new CacheManager({ storage: 'memory', root });
    await a.save('mission_graph', 'one', { n: 1 });
    expect(await b.load('mission_graph', 'one')).toEqual({ n: 1 });
    await b.save('mission_graph', 'one', { n: 2 });
    await b.close(); // compacts: a must notice the new index.json
    expect(await a.load('mission_graph', 'one')).toEqual({ n: 2 });
    const c = new CacheManager({ storage: 'memory', root });
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : c).save('mission_graph', `k${i}`, { i })));
    await c.close();
    expect((await a.listKeys('mission_graph')).length).toBe(21);
    await a.close();
  });

  it('a write refused by the quota throws EQUOTA, names QuotaExceededError and leaves earlier entries intact', async () => {
    const root = freshRoot();
    const files = new MemoryFiles(root, { quotaBytes: 64 * 1024 });
    const cache = new CacheManagerCore(files, { checksum }, {});
    const small = glWeights(0.5, 100);
    await cache.save('fractional_kernels', 'small', small);
    const refused = await cache.save('fractional_kernels', 'large', glWeights(0.5, 100_000)).catch((error) => error);
    expect(refused).toBeInstanceOf(CacheError);
    expect(refused.code).toBe('EQUOTA');
    expect(refused.message).toMatch(/QuotaExceededError/);
    expect(refused.message).toMatch(/earlier cache entries are intact/);
    expect((refused.cause as DOMException).name).toBe('QuotaExceededError');
    expect(await cache.load('fractional_kernels', 'small')).toEqual(small);
    expect(await cache.exists('fractional_kernels', 'large')).toBe(false);
    expect((await files.list('fractional_kernels')).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    expect((await cache.validate()).ok).toBe(true);
    await cache.close();
  });

  it('without an origin-private file system, says so and names { storage: \'memory\' }', () => {
    // Node has no navigator.storage.getDirectory, as old browsers and insecure (http) pages.
    const error = (() => { try { new CacheManager(); } catch (e) { return e as CacheError; } })();
    expect(error).toBeInstanceOf(CacheError);
    expect(error!.code).toBe('ENOOPFS');
    expect(error!.message).toMatch(/origin-private file system/);
    expect(error!.message).toContain("storage: 'memory'");
  });

  it('checks its options', () => {
    expect(() => new CacheManager({ storage: 'disk' as 'memory' })).toThrow(RangeError);
    expect(() => new CacheManager({ storage: 'memory', root: '../up' })).toThrow(/options\.root/);
    expect(() => new CacheManager({ storage: 'memory', root: '' })).toThrow(TypeError);
    expect(() => new CacheManager({ storage: 'memory', persist: 'yes' as unknown as boolean })).toThrow(/persist/);
    expect(() => new CacheManager({ storage: 'memory', rooot: 'x' } as object)).toThrow(/unknown option "rooot".*storage, persist/);
  });

  it('persisted() is false where the Storage API is missing', async () => {
    const cache = new CacheManager({ storage: 'memory', root: freshRoot(), persist: true });
    expect(await cache.persisted()).toBe(false);
  });
});
