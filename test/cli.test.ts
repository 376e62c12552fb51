// The dase-cache command line, run as the real binary (dist/cli/main.js, built by test/global-setup.ts) in
// child processes against temporary cache roots: every command, its --json output, its exit codes, and
// the refusals (no terminal, unknown category, bad size, bad config).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheManager, cachedKernels, kernelInfo, laplacian } from '../src/node.js';
import { parseSize } from '../src/cli/size.js';
import { chooseJobs, PARALLEL_MIN_BYTES } from '../src/cli/warmup/pool.js';
import type { WarmupItem } from '../src/cli/warmup/items.js';
import { expectIndexAtRest } from './fixtures/index-at-rest.js';
import { sleep } from './fixtures/util.js';
import { fails, json, type Run } from './fixtures/cli-run.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(REPO, 'dist/cli/main.js');
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const COMMANDS = ['ls', 'stats', 'info', 'clear', 'warmup', 'validate', 'gc'];


/** Runs the binary with pipes for stdin, stdout and stderr (so no terminal), the root in DASE_CACHE_DIR. */
function cli(args: string[], root?: string): Run {
  const env: NodeJS.ProcessEnv = { ...process.env, DASE_CACHE_DIR: root ?? '' };
  delete env.DASE_CACHE_DEBUG;
  const run = spawnSync(process.execPath, [BIN, ...args], { cwd: REPO, env, encoding: 'utf8', input: '' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}



// `script` (util-linux) runs a command on a pseudo-terminal: the real terminal paths, typed answers included.
const hasScript = spawnSync('script', ['--version']).status === 0;
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

const roots: string[] = [];
function tempRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'dase-cli-'));
  roots.push(root);
  return root;
}
afterAll(() => { for (const root of roots) rmSync(root, { recursive: true, force: true }); });

const RAMP = Float64Array.from({ length: 1000 }, (_, i) => i / 2);

/** A cache with one entry of every kind of value. */
async function filledCache(): Promise<string> {
  const root = tempRoot();
  const cache = new CacheManager({ root });
  await cache.save('fractional_kernels', 'kernel_0.5_0.01_1000', RAMP, { metadata: { compute_ms: 1.5, alpha: 0.5 } });
  await cache.save('stencils', 'laplacian_2d_8_8_dirichlet', laplacian([8, 8]));
  await cache.save('stencils', 'fd_d2_acc2_center', { offsets: Int32Array.of(-1, 0, 1), weights: Float64Array.of(1, -2, 1) });
  await cache.save('state_profiles', 'profile', { data: Float32Array.from({ length: 12 }, (_, i) => i), shape: [3, 4] });
  await cache.save('mission_graph', 'graph', { nodes: ['a', 'b'], edges: [[0, 1]] });
  await cache.save('fftw_wisdom', 'plan_1024', Uint8Array.from({ length: 64 }, (_, i) => i));
  await cache.save('surrogates', 'model_v1', { model_state_dict: { w: Float32Array.of(1, 2, 3) }, epoch: 3 });
  await cache.close();
  return root;
}

describe('help and version', () => {
  it('--version prints the package version; --help lists every command', () => {
    expect(cli(['--version']).stdout.trim()).toBe(VERSION);
    const help = cli(['--help']);
    expect(help.status).toBe(0);
    for (const name of COMMANDS) expect(help.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    expect(help.stdout).toContain('Exit codes: 0 ok, 1 a problem was found');
  });

  it('every command has --help with its usage, examples and JSON output', () => {
    for (const name of COMMANDS) {
      const run = cli([name, '--help']);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toContain(`Usage: dase-cache ${name}`);
      expect(run.stdout).toMatch(/Examples:\n {2}\$ dase-cache /);
      expect(run.stdout).toContain('JSON output (--json):');
      expect(run.stdout).toContain('--root <dir>');
    }
    expect(cli(['help', 'warmup']).stdout).toContain('"fractional_kernels": [{ "alpha"');
  });
});

describe('usage errors: exit 2 and one line on stderr', () => {
  it('unknown command, unknown option, missing argument', () => {
    fails(cli(['lss']), 2, /unknown command "lss"; run "dase-cache --help"/);
    fails(cli([]), 2, /expected a command/);
    fails(cli(['ls', '--bogus']), 2, /ls: Unknown option '--bogus'; run "dase-cache ls --help"/);
    fails(cli(['info', 'stencils']), 2, /info: expected <category> <key>/);
  });

  it('a root that holds no cache is reported, not filled with folders', () => {
    const empty = tempRoot();
    fails(cli(['ls'], empty), 2, /holds no dase-cache .*pass --root <dir> or set DASE_CACHE_DIR/);
    fails(cli(['stats', '--root', join(empty, 'nowhere')]), 2, /does not exist/);
    expect(cli(['ls'], empty).stdout).toBe('');
  });

  it('an unknown category, a bad key, a bad size', async () => {
    const root = await filledCache();
    fails(cli(['ls', 'nope'], root), 2, /unknown category "nope"; known categories: fractional_kernels, stencils/);
    fails(cli(['info', 'nope', 'k'], root), 2, /unknown category "nope"/);
    fails(cli(['gc', '--max-size', '1G', '--category', 'nope'], root), 2, /unknown category "nope"/);
    fails(cli(['info', 'stencils', '../etc'], root), 2, /bad key "\.\.\/etc"/);
    fails(cli(['gc', '--max-size', '12Q'], root), 2, /--max-size: bad size "12Q"; give bytes \(12345\) or a number with K, M, G or T/);
    fails(cli(['gc'], root), 2, /--max-size <size> is required/);
    expectIndexAtRest(root);
  });

  it('sizes: bytes, or K, M, G, T as powers of 1024, with or without B or iB', () => {
    expect(parseSize('12345', 's')).toBe(12345);
    expect(parseSize('500M', 's')).toBe(500 * 2 ** 20);
    expect(parseSize('1.5G', 's')).toBe(1.5 * 2 ** 30);
    expect(parseSize('200MB', 's')).toBe(200 * 2 ** 20);
    expect(parseSize('1GiB', 's')).toBe(2 ** 30);
    expect(parseSize('64k', 's')).toBe(65536);
    expect(parseSize('0', 's')).toBe(0);
    for (const bad of ['', 'M', '-1', '1.5.2G', '12Q', '1iB', '1e3', 'G1']) expect(() => parseSize(bad, 's')).toThrow(/bad size/);
  });
});

describe('ls, stats, info', () => {
  let root: string;
  beforeAll(async () => { root = await filledCache(); });

  it('ls lists keys with size, accesses, last access and kind, dtype and shape', () => {
    const { entries } = json<{ entries: Record<string, unknown>[] }>(cli(['ls', '--json'], root));
    expect(entries.map((e) => `${e.category}/${e.key}`)).toEqual([
      'fractional_kernels/kernel_0.5_0.01_1000', 'stencils/fd_d2_acc2_center', 'stencils/laplacian_2d_8_8_dirichlet',
      'fftw_wisdom/plan_1024', 'state_profiles/profile', 'mission_graph/graph', 'surrogates/model_v1',
    ]);
    expect(entries[0]).toMatchObject({ kind: 'array', dtype: '<f8', shape: [1000], access_count: 0, compute_ms: 1.5, file: 'kernel_0.5_0.01_1000.npz' });
    expect(entries[0].size_bytes).toBeGreaterThan(8000);
    expect(entries[2]).toMatchObject({ kind: 'csr', dtype: '<f8', shape: [64, 64] });
    expect(entries[3]).toMatchObject({ kind: 'bytes', dtype: null, shape: null, size_bytes: 64 });
    expect(entries[4]).toMatchObject({ kind: 'ndarray', dtype: '<f4', shape: [3, 4] });

    const table = cli(['ls', 'stencils'], root);
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/^KEY +KIND +DTYPE +SHAPE +SIZE +ACCESSES +LAST ACCESS$/m);
    expect(table.stdout).toMatch(/^laplacian_2d_8_8_dirichlet +csr +float64 +64x64 +[\d.]+ KiB +0 +\d+ (s|min) ago$/m);
    expect(table.stdout).toMatch(/^2 entries, /m);
    expectIndexAtRest(root);
  });

  it('stats gives per-category figures, largest and most used entries, and totals', async () => {
    // Two reads of one entry by a program, so that it is the most used; `info` only looks, and counts none.
    const reader = new CacheManager({ root });
    await reader.load('mission_graph', 'graph');
    await reader.load('mission_graph', 'graph');
    await reader.close();
    expect(cli(['info', 'mission_graph', 'graph'], root).status).toBe(0);
    const stats = json<{ total: Record<string, number>; categories: Record<string, unknown>[] }>(cli(['stats', '--json'], root));
    expect(stats.total).toMatchObject({ categories: 8, entries: 7, accesses: 2 });
    const graph = stats.categories.find((c) => c.category === 'mission_graph')!;
    expect(graph).toMatchObject({ kind: 'arrays', entries: 1, accesses: 2, most_used: [{ key: 'graph', access_count: 2 }] });
    const stencils = stats.categories.find((c) => c.category === 'stencils')!;
    expect((stencils.largest as { key: string }[]).map((e) => e.key)).toEqual(['laplacian_2d_8_8_dirichlet', 'fd_d2_acc2_center']);
    const sizes = stats.categories.reduce((n, c) => n + (c.size_bytes as number), 0);
    expect(stats.total.size_bytes).toBe(sizes);

    // The two loads taught the root's cost model what a load from this disk costs: stats shows it.
    const { costs } = json<{ costs: { storage: string; loads: Record<string, { fixedMs: number; mbPerSecond: number; samples: number }> } }>(cli(['stats', '--json'], root));
    expect(costs.storage).toBe('disk');
    expect(costs.loads.disk.samples).toBe(3); // the program's two, and info's
    expect(costs.loads.disk.fixedMs).toBeGreaterThan(0);
    const all = cli(['stats'], root);
    expect(all.stdout).toMatch(/^load costs \(learnt from verified loads on this root/m);
    expect(all.stdout).toMatch(/^budget: none \(the cache grows until gc or a maxBytes option bounds it\)$/m);
    expect(all.stdout).toMatch(/^ +disk +[\d.]+ ms per load \+ +\d+ MB\/s +\(3 loads measured\)$/m);

    const one = cli(['stats', 'stencils'], root);
    expect(one.stdout).toMatch(/^stencils +arrays +2 /m);
    expect(one.stdout).toMatch(/^total +2 /m);
    expect(one.stdout).toMatch(/^largest:\n +[\d.]+ KiB +laplacian_2d_8_8_dirichlet$/m);
    expectIndexAtRest(root);
  });

  it('info shows the entry, its metadata and a preview for every kind of value', () => {
    const array = json<{ entry: Record<string, unknown>; metadata: unknown; preview: unknown; error: unknown }>(
      cli(['info', 'fractional_kernels', 'kernel_0.5_0.01_1000', '--json'], root));
    expect(array.entry).toMatchObject({ key: 'kernel_0.5_0.01_1000', checksum: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    expect(array.metadata).toEqual({ compute_ms: 1.5, alpha: 0.5 });
    expect(array.preview).toEqual({ kind: 'array', dtype: '<f8', shape: [1000], length: 1000, first: [0, 0.5, 1, 1.5, 2], last: [497.5, 498, 498.5, 499, 499.5] });
    expect(array.error).toBeNull();

    const preview = (category: string, key: string) => json<{ preview: Record<string, unknown> }>(cli(['info', category, key, '--json'], root)).preview;
    expect(preview('stencils', 'laplacian_2d_8_8_dirichlet')).toMatchObject({ kind: 'csr', shape: [64, 64], nnz: 288, first: [-4, 1, 1, 1, -4] });
    expect(preview('stencils', 'fd_d2_acc2_center')).toMatchObject({ kind: 'record', keys: ['offsets', 'weights'], members: { weights: { dtype: '<f8', first: [1, -2, 1] } } });
    expect(preview('fftw_wisdom', 'plan_1024')).toEqual({ kind: 'bytes', size: 64, first_bytes: '00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f' });
    expect(preview('mission_graph', 'graph')).toMatchObject({ kind: 'json', type: 'object', keys: ['nodes', 'edges'] });
    expect(preview('surrogates', 'model_v1')).toMatchObject({ keys: ['model_state_dict', 'epoch'], tensors: { 'model_state_dict.w': { dtype: '<f4', shape: [3] } } });

    const human = cli(['info', 'state_profiles', 'profile'], root);
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(/^state_profiles\/profile\n {2}file +profile\.npz$/m);
    expect(human.stdout).toMatch(/^metadata\n {2}\(none\)\npreview\n {2}kind +ndarray\n {2}dtype +float32\n {2}shape +3x4\n {2}first +0, 1, 2, 3, 4\n {2}last +7, 8, 9, 10, 11$/m);
    expectIndexAtRest(root);
  });

  it('lists categories a program added (found on disk by their index.json)', async () => {
    const own = tempRoot();
    const cache = new CacheManager({ root: own, categories: { checkpoints: { kind: 'tensors' } } });
    await cache.save('checkpoints', 'epoch_3', { model_state_dict: { w: Float32Array.of(1) }, epoch: 3 });
    await cache.close();
    expect(json<{ entries: unknown[] }>(cli(['ls', 'checkpoints', '--json'], own)).entries).toEqual([expect.objectContaining({ key: 'epoch_3', kind: 'checkpoint' })]);
    expect(json<{ total: { categories: number } }>(cli(['stats', '--json'], own)).total.categories).toBe(9);
    expectIndexAtRest(own);
  });

  it('info on a key that is not there: exit 1, and what to run', () => {
    fails(cli(['info', 'stencils', 'laplacian_2d_9_9_dirichlet'], root), 1, /no entry "laplacian_2d_9_9_dirichlet" in stencils; run "dase-cache ls stencils"/);
    expectIndexAtRest(root);
  });
});

describe('clear', () => {
  it('refuses without a terminal and without --yes (exit 2), and removes nothing', async () => {
    const root = await filledCache();
    fails(cli(['clear', 'stencils'], root), 2, /clear stencils: refused, it needs confirmation and stdin is not a terminal; pass --yes/);
    fails(cli(['clear', '--all'], root), 2, /pass --yes/);
    expect(json<{ entries: unknown[] }>(cli(['ls', '--json'], root)).entries).toHaveLength(7);
    expectIndexAtRest(root);
  });

  it('with --yes: one key, a category, everything; a missing key is exit 1', async () => {
    const root = await filledCache();
    expect(json(cli(['clear', 'stencils', 'fd_d2_acc2_center', '--yes', '--json'], root))).toMatchObject({ removed: { stencils: 1 }, total: 1, key: 'fd_d2_acc2_center' });
    fails(cli(['clear', 'stencils', 'fd_d2_acc2_center', '--yes'], root), 1, /no entry "fd_d2_acc2_center" in stencils/);
    const category = cli(['clear', 'fractional_kernels', '-y'], root);
    expect(category.stdout).toMatch(/^removed 1 entry \([\d.]+ KiB\) from fractional_kernels$/m);
    fails(cli(['clear', 'stencils', '--all', '--yes'], root), 2, /either --all or a category, not both/);
    const all = json<{ removed: Record<string, number>; total: number }>(cli(['clear', '--all', '--yes', '--json'], root));
    expect(all.total).toBe(5);
    expect(all.removed).toMatchObject({ stencils: 1, fractional_kernels: 0, surrogates: 1 });
    expect(json<{ entries: unknown[] }>(cli(['ls', '--json'], root)).entries).toEqual([]);
    expectIndexAtRest(root);
  });

  it.skipIf(!hasScript)('on a terminal it asks, and only "y" removes', async () => {
    const root = await filledCache();
    const onTerminal = (answer: string) => spawnSync('script', ['-qec', [process.execPath, BIN, 'clear', 'stencils', '--root', root].map(quote).join(' '), '/dev/null'],
      { encoding: 'utf8', input: `${answer}\n` });
    const no = onTerminal('n');
    expect(no.stdout).toMatch(/Remove 2 entries \([\d.]+ KiB\) from stencils in .*\? \[y\/N\]/);
    expect(no.stdout).toContain('nothing removed');
    expect(json<{ entries: unknown[] }>(cli(['ls', 'stencils', '--json'], root)).entries).toHaveLength(2);
    const yes = onTerminal('y');
    expect(yes.status).toBe(0);
    expect(yes.stdout).toMatch(/removed 2 entries/);
    expect(json<{ entries: unknown[] }>(cli(['ls', 'stencils', '--json'], root)).entries).toHaveLength(0);
    expectIndexAtRest(root);
  });
});

describe('warmup', () => {
  const config = {
    fractional_kernels: [{ alpha: [0.5, 0.75], dt: 0.01, n: [100, 1000] }],
    gl_weights: [{ alpha: 0.5, n: 100 }],
    laplacians: [{ shape: [[16, 16]], boundary: ['dirichlet', 'periodic'] }, { shape: [8, 8, 8], accuracy: 4, spacing: 0.1 }],
    fd_coefficients: [{ derivative: [1, 2], accuracy: 2 }],
  };
  const expectedKeys = [
    'fractional_kernels/gl_0.5_100', 'fractional_kernels/kernel_0.5_0.01_100', 'fractional_kernels/kernel_0.5_0.01_1000',
    'fractional_kernels/kernel_0.75_0.01_100', 'fractional_kernels/kernel_0.75_0.01_1000',
    'stencils/fd_d1_acc2_center', 'stencils/fd_d2_acc2_center', 'stencils/laplacian_2d_16_16_dirichlet',
    'stencils/laplacian_2d_16_16_periodic', 'stencils/laplacian_3d_8_8_8_dirichlet_acc4_h0.1',
  ];
  type Report = { jobs: number; computed: number; cached: number; failed: number; items: { category: string; key: string; source: string; size_bytes: number }[] };

  it('makes what a config lists (on worker threads with --jobs 2), then ls lists it; a second run finds it cached', () => {
    const root = tempRoot();
    const file = join(root, 'kernels.json');
    writeFileSync(file, JSON.stringify(config));
    const first = json<Report>(cli(['warmup', '--config', file, '--jobs', '2', '--json'], root));
    expect(first).toMatchObject({ jobs: 2, computed: 10, cached: 0, failed: 0 });
    const listed = json<{ entries: { category: string; key: string; size_bytes: number }[] }>(cli(['ls', '--json'], root)).entries;
    expect(listed.map((e) => `${e.category}/${e.key}`)).toEqual(expectedKeys);
    for (const item of first.items) expect(listed.find((e) => e.key === item.key)?.size_bytes).toBe(item.size_bytes);

    const again = cli(['warmup', '--config', file], root);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^cached +stencils\/laplacian_2d_16_16_periodic +[\d.]+ KiB +[\d.]+ ms$/m);
    expect(again.stdout).toMatch(/^warmup: 10 entries \([\d.]+ KiB\): 0 computed, 10 already cached, in .* in one thread; cache: /m);
    expectIndexAtRest(root);
  });

  it('fills the cache with the default set, under the keys the memoized kernels look up', async () => {
    const root = tempRoot();
    const dry = json<{ items: { key: string; stored: boolean }[] }>(cli(['warmup', '--dry-run', '--json'], root));
    expect(dry.items).toHaveLength(35);
    expect(dry.items.every((i) => !i.stored)).toBe(true);
    const report = json<Report>(cli(['warmup', '--json'], root));
    expect(report).toMatchObject({ computed: 35, failed: 0 });
    const listed = json<{ entries: { category: string; key: string }[] }>(cli(['ls', '--json'], root)).entries;
    expect(listed.map((e) => `${e.category}/${e.key}`).sort()).toEqual(report.items.map((i) => `${i.category}/${i.key}`).sort());

    const cache = new CacheManager({ root });
    // Policy 'always' loads what is stored; 'auto' would compute these again, faster than loading them.
    const kernels = cachedKernels(cache, { policy: 'always', memory: 0 });
    for (const key of [kernels.fractionalKernel.keyFor(0.5, 0.01, 1000), kernels.fractionalKernel.keyFor(1.5, 0.001, 10000)]) {
      expect(listed).toContainEqual(expect.objectContaining({ category: 'fractional_kernels', key }));
    }
    expect(listed).toContainEqual(expect.objectContaining({ category: 'stencils', key: kernels.laplacian.keyFor([64, 64, 64], { boundary: 'periodic' }) }));
    // The CLI runs the SIMD build; a simulation on the same build is served from the cache.
    if (kernelInfo().build === 'simd') expect((await kernels.laplacian.withInfo([128, 128], { boundary: 'neumann' })).source).toBe('disk');
    await cache.close();
    expectIndexAtRest(root);
  });

  it.skipIf(!hasScript)('on a terminal it draws a progress bar instead of a line per entry', () => {
    const root = tempRoot();
    const file = join(root, 'kernels.json');
    writeFileSync(file, JSON.stringify({ gl_weights: [{ alpha: [0.5, 0.6], n: 10 }] }));
    const run = spawnSync('script', ['-qec', [process.execPath, BIN, 'warmup', '--config', file, '--root', root].map(quote).join(' '), '/dev/null'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('warmup [########################] 2/2');
    expect(run.stdout).not.toMatch(/^computed /m);
    expect(run.stdout).toMatch(/warmup: 2 entries .*: 2 computed, 0 already cached/);
    expectIndexAtRest(root);
  });

  it('uses worker threads only for work big enough to pay for them, or when --jobs says so', () => {
    const item = (estimatedBytes: number) => ({ estimatedBytes }) as WarmupItem;
    const cores = Math.min(availableParallelism(), 4);
    expect(chooseJobs(undefined, [item(2 ** 20), item(2 ** 20)], [false, false])).toBe(1);
    expect(chooseJobs(undefined, [item(PARALLEL_MIN_BYTES), item(1)], [false, false])).toBe(cores);
    expect(chooseJobs(undefined, [item(PARALLEL_MIN_BYTES), item(1)], [true, false])).toBe(1); // stored: only verified
    expect(chooseJobs(3, [item(1), item(1)], [false, false])).toBe(2);
    expect(chooseJobs(1, [item(PARALLEL_MIN_BYTES)], [false])).toBe(1);
  });

  it('refuses a bad config with exit 2 and the path of the bad field', () => {
    const root = tempRoot();
    const write = (name: string, text: string) => { const file = join(root, name); writeFileSync(file, text); return file; };
    fails(cli(['warmup', '--config', join(root, 'missing.json')], root), 2, /missing\.json: cannot read it \(ENOENT\); check the path/);
    fails(cli(['warmup', '--config', write('a.json', '{ "laplacians": [')], root), 2, /a\.json: not valid JSON/);
    fails(cli(['warmup', '--config', write('b.json', '{ "laplacian": [] }')], root), 2, /b\.json: unknown section "laplacian" \(expected fractional_kernels, gl_weights, laplacians, fd_coefficients\)/);
    fails(cli(['warmup', '--config', write('c.json', JSON.stringify({ laplacians: [{ shape: [8, 8] }, { shape: [8, 8], boundary: ['dirichlet', 'robin'] }] }))], root),
      2, /c\.json: laplacians\[1\]\.boundary: expected "dirichlet", "neumann" or "periodic" \(or a list of them\), got "robin"/);
    fails(cli(['warmup', '--config', write('d.json', JSON.stringify({ fractional_kernels: [{ alpha: 0.5, dt: 0, n: 10 }] }))], root), 2, /fractional_kernels\[0\]\.dt: expected a number > 0/);
    fails(cli(['warmup', '--jobs', 'two'], root), 2, /--jobs: expected an integer from 1 to 64/);
  });
});

describe('validate', () => {
  it('exit 0 on a sound cache; exit 1 and what to run on damage; --repair fixes it', async () => {
    const root = await filledCache();
    const clean = cli(['validate'], root);
    expect(clean.status, clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/^checked 7 entries in .*: no problems$/m);

    const file = join(root, 'stencils', 'laplacian_2d_8_8_dirichlet.npz');
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(file, bytes);

    const damaged = cli(['validate', '--json'], root);
    fails(damaged, 1, /validate: 1 problem found; run "dase-cache validate --repair"/);
    const report = JSON.parse(damaged.stdout) as { ok: boolean; categories: Record<string, { problems: { problem: string; key?: string }[] }> };
    expect(report.ok).toBe(false);
    expect(report.categories.stencils.problems).toEqual([expect.objectContaining({ problem: 'checksum_mismatch', key: 'laplacian_2d_8_8_dirichlet' })]);
    fails(cli(['info', 'stencils', 'laplacian_2d_8_8_dirichlet'], root), 1, /Integrity check failed .*run "dase-cache validate --repair"/);

    const repaired = cli(['validate', '--repair'], root);
    expect(repaired.status, repaired.stderr).toBe(0);
    expect(repaired.stdout).toMatch(/^stencils: quarantined laplacian_2d_8_8_dirichlet\.npz as \.quarantine\/stencils\/.*-laplacian_2d_8_8_dirichlet\.npz$/m);
    expect(repaired.stdout).toMatch(/1 problem found and repaired$/m);
    expect(repaired.stdout).toMatch(/^1 damaged file set aside in .*\/\.quarantine\/ \(dase-cache clear --quarantine deletes them\)$/m);
    fails(cli(['clear', '--quarantine'], root), 2, /needs confirmation/);
    expect(json<{ total: number }>(cli(['clear', '--quarantine', '--yes', '--json'], root)).total).toBe(1);
    expect(existsSync(join(root, '.quarantine'))).toBe(false);
    expect(json<{ ok: boolean }>(cli(['validate', '--json'], root)).ok).toBe(true);
    expect(json<{ entries: { key: string }[] }>(cli(['ls', 'stencils', '--json'], root)).entries.map((e) => e.key)).toEqual(['fd_d2_acc2_center']);
    expectIndexAtRest(root);
  });

  it('reports progress through validate({ onProgress }) up to the number of entries', async () => {
    const root = await filledCache();
    const cache = new CacheManager({ root });
    const calls: [number, number][] = [];
    expect((await cache.validate({ onProgress: (done, total) => calls.push([done, total]) })).ok).toBe(true);
    expect(calls).toHaveLength(7);
    expect(calls.at(-1)).toEqual([7, 7]);
    await expect(cache.validate({ onProgress: 3 as never })).rejects.toThrow(/onProgress to be a function/);
    await cache.close();
    expectIndexAtRest(root);
  });
});

describe('gc', () => {
  it('evicts what saves the least compute time per byte first (gdsf, as the budget does), sparing pins, until the cache fits', async () => {
    const root = tempRoot();
    const cache = new CacheManager({ root });
    await cache.save('state_profiles', 'old_by_hand', new Float64Array(1000));
    await sleep(5);
    await cache.save('state_profiles', 'new_by_hand', new Float64Array(1000));
    await sleep(5); // each save in a millisecond of its own: lru's order is by time
    await cache.save('fractional_kernels', 'cheap', new Float64Array(10_000), { metadata: { compute_ms: 1 } });
    await sleep(5);
    await cache.save('fractional_kernels', 'dear', new Float64Array(1000), { metadata: { compute_ms: 100 } });
    await cache.close();
    const entries = json<{ entries: { key: string; size_bytes: number }[] }>(cli(['ls', '--json'], root)).entries;
    const size = (key: string) => entries.find((e) => e.key === key)!.size_bytes;
    const total = entries.reduce((n, e) => n + e.size_bytes, 0);

    type Gc = { max_bytes: number; before_bytes: number; after_bytes: number; dry_run: boolean; removed: { key: string }[] };
    // cheap: 1 ms for 80 KB; by hand: what loading 8 KB back costs (~1 ms), the older first; dear: 100 ms for 8 KB.
    const dry = json<Gc>(cli(['gc', '--max-size', '0', '--dry-run', '--json'], root));
    expect(dry.removed.map((e) => e.key)).toEqual(['cheap', 'old_by_hand', 'new_by_hand', 'dear']);
    expect(json<{ entries: unknown[] }>(cli(['ls', '--json'], root)).entries).toHaveLength(4);
    expect(json<Gc>(cli(['gc', '--max-size', '0', '--dry-run', '--policy', 'lru', '--json'], root)).removed.map((e) => e.key))
      .toEqual(['old_by_hand', 'new_by_hand', 'cheap', 'dear']);
    fails(cli(['gc', '--max-size', '0', '--policy', 'fifo'], root), 2, /--policy must be gdsf, lru, lfu, got "fifo"/);

    const limit = total - size('cheap') - 1;
    const gc = json<Gc>(cli(['gc', '--max-size', String(limit), '--json'], root));
    expect(gc).toMatchObject({ max_bytes: limit, before_bytes: total, after_bytes: total - size('cheap') - size('old_by_hand'), dry_run: false });
    expect(gc.removed.map((e) => e.key)).toEqual(['cheap', 'old_by_hand']);
    expect(json<{ entries: { key: string }[] }>(cli(['ls', '--json'], root)).entries.map((e) => e.key)).toEqual(['dear', 'new_by_hand']);

    // A pinned entry stays whatever the size asked for.
    const pinner = new CacheManager({ root });
    await pinner.pin('fractional_kernels', 'dear');
    await pinner.close();
    const category = cli(['gc', '--max-size', '0'], root);
    expect(category.stdout).toMatch(/^state_profiles\/new_by_hand +[\d.]+ KiB +- +\d+ (s|min) ago$/m);
    expect(category.stdout).toMatch(/^removed 1 entry \([\d.]+ KiB\): the cache [\d.]+ KiB -> [\d.]+ KiB, limit 0 B$/m);
    expect(json<{ entries: { key: string }[] }>(cli(['ls', '--json'], root)).entries.map((e) => e.key)).toEqual(['dear']);
    expect(cli(['gc', '--max-size', '0', '--category', 'state_profiles'], root).stdout).toMatch(/^state_profiles takes 0 B, within 0 B: nothing to remove$/m);
    expect(cli(['gc', '--max-size', '500M'], root).stdout).toMatch(/^the cache takes [\d.]+ KiB, within 500 MiB: nothing to remove$/m);
    expectIndexAtRest(root);
  });
});
