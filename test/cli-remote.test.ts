// `dase-cache remote status | push | pull | ls`, run as the real binary (dist/cli/main.js) against real servers on
// loopback: Debian's redis-server (with a password), nginx's WebDAV folder with JSON listings, and a plain HTTP
// cache without listings (node:http, in this process: so the binary runs asynchronously, never with spawnSync).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheManager, laplacian } from '../src/node.js';
import { startNginxDav, startRedis, type TestServer } from '../scripts/local-servers.js';
import { expectIndexAtRest } from './fixtures/index-at-rest.js';
import { FIRST_BUILD_PASS } from './fixtures/util.js';
import { fails, json, type Run as CliRun } from './fixtures/cli-run.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(REPO, 'dist/cli/main.js');
const PASSWORD = 'pw-7f3c9e1d4a';

interface Run extends CliRun { ms: number }

/**
 * Runs the binary with pipes (no terminal), without the remote and root variables of the test's environment
 * unless `env` gives them.
 */
function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['DASE_CACHE_DIR', 'DASE_CACHE_REMOTE', 'DASE_CACHE_REMOTE_TOKEN', 'DASE_CACHE_DEBUG']) delete base[name];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8'); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr, ms: Date.now() - started }));
  });
}



const folders: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dase-cli-remote-'));
  folders.push(dir);
  return dir;
}
afterAll(() => { for (const dir of folders) rmSync(dir, { recursive: true, force: true }); });

// One value of every kind a remote carries: arrays, CSR, records, bytes, JSON, tensors.
const VALUES: [string, string, unknown][] = [
  ['fractional_kernels', 'kernel_0.5_0.01_1000', Float64Array.from({ length: 1000 }, (_, i) => i / 2)],
  ['stencils', 'fd_d2_acc2_center', { offsets: Int32Array.of(-1, 0, 1), weights: Float64Array.of(1, -2, 1) }],
  ['stencils', 'laplacian_2d_8_8_dirichlet', laplacian([8, 8])],
  ['fftw_wisdom', 'plan_1024', Uint8Array.from({ length: 64 }, (_, i) => i)],
  ['mission_graph', 'graph', { nodes: ['a', 'b'], edges: [[0, 1]] }],
  ['surrogates', 'model_v1', { model_state_dict: { w: Float32Array.of(1, 2, 3) }, epoch: 3 }],
];
const KEYS = VALUES.map(([category, key]) => `${category}/${key}`).sort();

/** A cache holding VALUES, made by a program without a remote. */
async function filledRoot(): Promise<string> {
  const root = join(tempDir(), 'cache');
  const cache = new CacheManager({ root, remote: false });
  for (const [category, key, value] of VALUES) {
    await cache.save(category, key, value, category === 'fractional_kernels' ? { metadata: { compute_ms: 1.5, alpha: 0.5 } } : {});
  }
  await cache.close();
  return root;
}

type Sync = { copied: number; skipped: number; failed: unknown[]; bytes: number; remote_failures: number; last_error: string | null };
type Status = {
  url: string; kind: string; reachable: boolean; latency_ms: number | null; error: string | null;
  entries: number | null; blobs: number | null; bytes: number | null; history: Record<string, number | string> | null;
};
type Listing = { remote: string; category: string | null; manifests: { category: string; key: string; blob: { sha256: string; size: number; ext: string }; value: { kind: string }; created_at: string }[] };

/** Runs a small program on dist/node.js in a process of its own: a CacheManager that uses the remote. */
function program(code: string, env: NodeJS.ProcessEnv): Promise<Run> {
  const source = `import { CacheManager } from ${JSON.stringify(pathToFileURL(join(REPO, 'dist/node.js')).href)};\n${code}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', source], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8'); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr, ms: 0 }));
  });
}

const backends = [
  {
    name: 'redis',
    start: () => startRedis({ password: PASSWORD }),
    // A database of its own per test: each starts from an empty remote.
    namespace: (server: TestServer, n: number) => `${server.url.replace('redis://', `redis://:${PASSWORD}@`)}/${n}`,
    shown: (server: TestServer, n: number) => `redis://:***@127.0.0.1:${server.port}/${n}`,
  },
  {
    name: 'http',
    start: () => startNginxDav(),
    // Credentials nginx does not ask for: they must still never be printed.
    namespace: (server: TestServer, n: number) => `${server.url.replace('http://', `http://ci:${PASSWORD}@`)}/ns${n}`,
    shown: (server: TestServer, n: number) => `http://ci:***@127.0.0.1:${server.port}/ns${n}`,
  },
];

// Concurrent: every test has its own roots and namespace, and most of the time goes to starting processes.
describe.skipIf(!FIRST_BUILD_PASS).concurrent.each(backends)('remote on $name', ({ start, namespace, shown }) => {
  let server: TestServer;
  let next = 1;
  /** A fresh, empty namespace on the server: its URL (with the password) and how the CLI shows it. */
  const fresh = () => { const n = next++; return { url: namespace(server, n), redacted: shown(server, n) }; };
  const noPassword = (run: Run) => {
    expect(run.stdout).not.toContain(PASSWORD);
    expect(run.stderr).not.toContain(PASSWORD);
    return run;
  };

  beforeAll(async () => { server = await start(); });
  afterAll(async () => { await server?.stop(); });

  it('push from a cache, then pull into an empty root: the same values and metadata', async () => {
    const { url, redacted } = fresh();
    const root = await filledRoot();
    const one = noPassword(await cli(['remote', 'push', 'stencils', '--remote', url, '--root', root]));
    expect(one.status, one.stderr).toBe(0);
    expect(one.stdout).toBe(`pushed ${root} to ${redacted} (stencils): 2 published (${one.stdout.match(/\(([\d.]+ KiB)\)/)![1]}), 0 skipped, 0 failed\n`);
    const pushed = json<Sync>(noPassword(await cli(['remote', 'push', '--json', '--remote', url, '--root', root])));
    expect(pushed).toMatchObject({ copied: VALUES.length, skipped: 0, failed: [], remote_failures: 0, last_error: null });
    expect(pushed.bytes).toBeGreaterThan(8000);
    expectIndexAtRest(root);

    const empty = join(tempDir(), 'fresh');
    const pulled = json<Sync>(noPassword(await cli(['remote', 'pull', '--json', '--remote', url, '--root', empty])));
    expect(pulled).toMatchObject({ copied: VALUES.length, skipped: 0, failed: [], bytes: pushed.bytes, remote_failures: 0 });
    const local = new CacheManager({ root: empty, remote: false });
    for (const [category, key, value] of VALUES) expect(await local.load(category, key), `${category}/${key}`).toEqual(value);
    expect(await local.loadMetadata('fractional_kernels', 'kernel_0.5_0.01_1000')).toEqual({ compute_ms: 1.5, alpha: 0.5 });
    await local.close();
    expectIndexAtRest(empty);

    const again = noPassword(await cli(['remote', 'pull', '--remote', url, '--root', empty]));
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toBe(`pulled ${redacted} into ${empty}: 0 copied (0 B), ${VALUES.length} skipped (already here, or of a category this cache lacks), 0 failed\n`);
  });

  it('ls and ls <category>: category, key, size, kind and age; --json gives the manifests', async () => {
    const { url, redacted } = fresh();
    const root = await filledRoot();
    expect((await cli(['remote', 'push', '--remote', url, '--root', root])).status).toBe(0);
    const listing = json<Listing>(noPassword(await cli(['remote', 'ls', '--json', '--remote', url, '--root', root])));
    expect(listing.remote).toBe(redacted);
    expect(listing.manifests.map((m) => `${m.category}/${m.key}`)).toEqual(KEYS);
    const laplacianManifest = listing.manifests.find((m) => m.key === 'laplacian_2d_8_8_dirichlet')!;
    expect(laplacianManifest).toMatchObject({ format: 'dase-cache-manifest/1', category: 'stencils', blob: { ext: 'npz' }, value: { kind: 'csr' } });
    expect(laplacianManifest.blob.sha256).toMatch(/^[0-9a-f]{64}$/);

    const stencils = json<Listing>(await cli(['remote', 'ls', 'stencils', '--json', '--remote', url, '--root', root]));
    expect(stencils).toMatchObject({ category: 'stencils' });
    expect(stencils.manifests.map((m) => m.key)).toEqual(['fd_d2_acc2_center', 'laplacian_2d_8_8_dirichlet']);

    const table = noPassword(await cli(['remote', 'ls', 'stencils', '--remote', url, '--root', root]));
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^CATEGORY +KEY +SIZE +KIND +CREATED\n/);
    expect(table.stdout).toMatch(/^stencils +fd_d2_acc2_center +[\d.]+ (B|KiB) +record +\d+ s ago$/m);
    expect(table.stdout).toMatch(/^stencils +laplacian_2d_8_8_dirichlet +[\d.]+ KiB +csr +\d+ s ago$/m);
    expect(table.stdout).toMatch(new RegExp(`^2 entries, [\\d.]+ KiB on ${redacted.replace(/[.*]/g, '\\$&')}\\n$`, 'm'));
    expect((await cli(['remote', 'ls', 'state_profiles', '--remote', url, '--root', root])).stdout).toBe(`no entries in state_profiles on ${redacted}\n`);
    fails(await cli(['remote', 'ls', 'nope', '--remote', url, '--root', root]), 2, /unknown category "nope"; known categories: fractional_kernels, stencils/);
  });

  it('status: the redacted URL, reachable, round trip, what the remote holds, and what it did for this root', async () => {
    const { url, redacted } = fresh();
    const root = await filledRoot();
    const before = json<Status>(noPassword(await cli(['remote', 'status', '--json', '--remote', url, '--root', root])));
    expect(before).toMatchObject({ url: redacted, reachable: true, error: null, history: null });
    const pushed = json<Sync>(await cli(['remote', 'push', '--json', '--remote', url, '--root', root]));
    const status = json<Status>(noPassword(await cli(['remote', 'status', '--json', '--remote', url, '--root', root])));
    expect(status).toMatchObject({ url: redacted, reachable: true, error: null, entries: VALUES.length, blobs: VALUES.length, bytes: pushed.bytes });
    expect(status.kind).toBe(url.startsWith('redis') ? 'redis' : 'http');
    expect(status.latency_ms).toBeGreaterThan(0);
    expect(status.latency_ms).toBeLessThan(1000);
    expect(status.history).toMatchObject({ processes: 1, uploads: VALUES.length, bytes_uploaded: pushed.bytes, hits: 0, misses: 0, errors: 0, timeouts: 0, rejected: 0 });

    const text = noPassword(await cli(['remote', 'status', '--remote', url, '--root', root]));
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^remote {5}${redacted.replace(/[.*]/g, '\\$&')} \\((redis|http)\\)\\nreachable  yes, round trip [\\d.]+ ms\\n`
      + `holds {6}6 entries, 6 blobs, [\\d.]+ KiB\\nused here  by 1 process, last \\d+ s ago \\(cache: .*\\)\\n {11}0 hits, 0 misses, 6 uploads, 0 errors, 0 timeouts, 0 rejected\\n$`));
  });

  it('status and ls on a root that does not exist leave no folder behind, nor anything in a folder without a cache', async () => {
    const { url } = fresh();
    const root = join(tempDir(), 'never');
    const status = json<Status>(await cli(['remote', 'status', '--json', '--remote', url, '--root', root]));
    expect(status).toMatchObject({ reachable: true, history: null });
    expect((await cli(['remote', 'status', '--remote', url, '--root', root])).stdout).toMatch(/^used here {2}no record \(.*never does not exist\)$/m);
    // An HTTP namespace nothing was uploaded to has no /ac/ folder to list yet: push one entry first.
    const other = await filledRoot();
    expect((await cli(['remote', 'push', 'fftw_wisdom', '--remote', url, '--root', other])).status).toBe(0);
    expect(json<Listing>(await cli(['remote', 'ls', '--json', '--remote', url, '--root', root])).manifests).toHaveLength(1);
    expect(existsSync(root)).toBe(false);
    // Nor in a folder that holds something else (closing a cache there would make its category folders).
    const elsewhere = tempDir();
    writeFileSync(join(elsewhere, 'notes.txt'), 'mine');
    expect((await cli(['remote', 'status', '--remote', url, '--root', elsewhere])).status).toBe(0);
    expect(readdirSync(elsewhere)).toEqual(['notes.txt']);
  });

  it('status sums the counts of every process that used the remote from this root', async () => {
    const { url } = fresh();
    // Another machine published the surrogate.
    expect((await cli(['remote', 'push', 'surrogates', '--remote', url, '--root', await filledRoot()])).status).toBe(0);
    const root = join(tempDir(), 'shared');
    const a = await program(`
      const cache = new CacheManager({ root: process.env.ROOT, remote: process.env.URL });
      await cache.save('fractional_kernels', 'mine', Float64Array.of(1, 2, 3));
      await cache.load('stencils', 'nowhere').catch(() => undefined);
      await cache.close();`, { ROOT: root, URL: url });
    expect(a.status, a.stderr).toBe(0);
    // The second one finds its remote in the environment, as any program does.
    const b = await program(`
      const cache = new CacheManager({ root: process.env.ROOT });
      if ((await cache.load('surrogates', 'model_v1')).epoch !== 3) process.exit(3);
      await cache.load('stencils', 'nowhere').catch(() => undefined);
      await cache.close();`, { ROOT: root, DASE_CACHE_REMOTE: url });
    expect(b.status, b.stderr).toBe(0);
    const { history } = json<Status>(await cli(['remote', 'status', '--json', '--root', root], { DASE_CACHE_REMOTE: url }));
    expect(history).toMatchObject({ processes: 2, hits: 1, misses: 2, uploads: 1, errors: 0, timeouts: 0, rejected: 0 });
    expect(history!.bytes_uploaded).toBeGreaterThan(24);
    expect(history!.bytes_downloaded).toBeGreaterThan(0);
    expect(Date.parse(history!.last_used as string)).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe.skipIf(!FIRST_BUILD_PASS).concurrent('remote: failures and refusals', () => {
  // Alone, so that its timing is not the other tests' load.
  it.sequential('status against a stopped server: exit 1 at once, reachable false and why; push says the remote failed', async () => {
    const root = await filledRoot();
    for (const server of [await startRedis(), await startNginxDav()]) {
      await server.stop();
      const run = await cli(['remote', 'status', '--json', '--remote', server.url, '--root', root]);
      fails(run, 1, /remote status: the remote .* is not reachable: .*ECONNREFUSED/);
      expect(JSON.parse(run.stdout)).toMatchObject({ reachable: false, latency_ms: null, entries: null, error: expect.stringMatching(/ECONNREFUSED/) });
      // A refused connection is an answer: nothing waits for the 2 s timeout (ping once, not once more in status()).
      expect(run.ms).toBeLessThan(2000);
      const push = await cli(['remote', 'push', '--remote', server.url, '--root', root]);
      fails(push, 1, /remote push: the remote .* failed \d+ times \(last: .*ECONNREFUSED.*\); the entries not published for it count as skipped/);
      expect(push.stdout).toMatch(/: 0 published \(0 B\), 6 skipped, 0 failed$/m);
    }
    expectIndexAtRest(root);
  });

  it('usage errors: no remote, a bad URL, an unknown subcommand, a token for Redis (exit 2, nothing secret echoed)', async () => {
    const root = await filledRoot();
    fails(await cli(['remote', 'push', '--root', root]), 2, /remote push: no remote; pass --remote <url> .* or set DASE_CACHE_REMOTE$/);
    const scheme = await cli(['remote', 'ls', '--remote', `ftp://ci:${PASSWORD}@host/x`, '--root', root]);
    fails(scheme, 2, /remote ls: unknown remote scheme "ftp:" \(known: redis:, rediss:, http:, https:\)/);
    expect(scheme.stderr).not.toContain(PASSWORD);
    fails(await cli(['remote', 'sync', '--remote', 'redis://127.0.0.1:1', '--root', root]), 2, /remote: unknown subcommand "sync" \(expected status, push, pull, ls\)/);
    fails(await cli(['remote', '--root', root]), 2, /remote: expected status \| push/);
    fails(await cli(['remote', 'status', 'stencils', '--remote', 'redis://127.0.0.1:1', '--root', root]), 2, /remote status: unexpected argument "stencils"/);
    fails(await cli(['remote', 'push', 'nope', '--remote', 'redis://127.0.0.1:1', '--root', root]), 2, /unknown category "nope"; known categories: /);
    fails(await cli(['remote', 'status', '--remote', 'redis://127.0.0.1:1', '--token', 'tok', '--root', root]), 2, /--token is for HTTP remotes/);
    fails(await cli(['remote', 'push', '--remote', 'redis://127.0.0.1:1', '--root', join(root, 'nowhere')]), 2, /the cache root .* does not exist/);
    expect((await cli(['remote', '--help'])).stdout).toMatch(/^Usage: dase-cache remote status \| push \[category\] \| pull \[category\] \| ls \[category\]/);
    expect((await cli(['--help'])).stdout).toMatch(/^ {2}remote +the shared remote cache/m);
  });

  it('a wrong Redis password is reported without being printed', async () => {
    const redis = await startRedis({ password: PASSWORD });
    try {
      const wrong = 'wrong-9b2e61c0';
      const run = await cli(['remote', 'status', '--json', '--remote', redis.url.replace('redis://', `redis://:${wrong}@`), '--root', join(tempDir(), 'x')]);
      fails(run, 1, /Redis refused the credentials for redis:\/\/:\*\*\*@127\.0\.0\.1:\d+/);
      expect(JSON.parse(run.stdout)).toMatchObject({ reachable: false, url: `redis://:***@127.0.0.1:${redis.port}` });
      expect(`${run.stdout}${run.stderr}`).not.toContain(wrong);
    } finally {
      await redis.stop();
    }
  });

  it('an HTTP cache with a bearer token: --token or $DASE_CACHE_REMOTE_TOKEN, never printed', async () => {
    const token = 'tok-51c0e7aa93';
    const nginx = await startNginxDav({ token });
    try {
      const root = await filledRoot();
      const url = `${nginx.url}/team`;
      const pushed = await cli(['remote', 'push', 'stencils', '--remote', url, '--token', token, '--root', root]);
      expect(pushed.status, pushed.stderr).toBe(0);
      expect(json<Status>(await cli(['remote', 'status', '--json', '--remote', url, '--root', root], { DASE_CACHE_REMOTE_TOKEN: token }))).toMatchObject({ reachable: true, entries: 2 });
      const refused = await cli(['remote', 'status', '--remote', url, '--root', root]);
      fails(refused, 1, /is not reachable: HTTP cache at .* needs credentials .* answered 401/);
      const badToken = await cli(['remote', 'ls', '--remote', url, '--token', 'not-the-token', '--root', root]);
      fails(badToken, 1, /refused the credentials/);
      for (const run of [pushed, refused, badToken]) expect(`${run.stdout}${run.stderr}`).not.toMatch(/tok-51c0e7aa93|not-the-token/);
    } finally {
      await nginx.stop();
    }
  });

  describe('a plain HTTP cache without listings', () => {
    let server: HttpServer;
    let url: string;
    const store = new Map<string, Buffer>();
    beforeAll(async () => {
      // What a bazel-remote or a proxy in front of a bucket does: GET, HEAD and PUT of files, no folder listings.
      server = createServer((request, response) => {
        const path = request.url ?? '/';
        if (request.method === 'PUT') {
          const chunks: Buffer[] = [];
          request.on('data', (chunk: Buffer) => chunks.push(chunk));
          request.on('end', () => { store.set(path, Buffer.concat(chunks)); response.writeHead(201).end(); });
          return;
        }
        const body = store.get(path);
        if (!body) { response.writeHead(404).end(); return; }
        response.writeHead(200, { 'content-length': body.length }).end(request.method === 'HEAD' ? undefined : body);
      });
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      url = `http://127.0.0.1:${(server.address() as { port: number }).port}/cache`;
    });
    afterAll(() => new Promise<void>((done) => server.close(() => done())));

    it('push works; status says what it holds is unknown; ls and pull cannot list it (exit 1)', async () => {
      const root = await filledRoot();
      expect(json<Sync>(await cli(['remote', 'push', '--json', '--remote', url, '--root', root]))).toMatchObject({ copied: VALUES.length, failed: [] });
      expect(store.size).toBe(2 * VALUES.length);
      const status = json<Status>(await cli(['remote', 'status', '--json', '--remote', url, '--root', root]));
      expect(status).toMatchObject({ kind: 'http', reachable: true, entries: null, blobs: null, bytes: null });
      expect((await cli(['remote', 'status', '--remote', url, '--root', root])).stdout).toMatch(/^holds {6}unknown \(no JSON listing of \/ac\/ or \/cas\/: /m);
      fails(await cli(['remote', 'ls', '--remote', url, '--root', root]), 1, /remote ls: the remote http:\/\/127\.0\.0\.1:\d+\/cache cannot list its entries \(an HTTP cache needs directory listings in JSON/);
      const fresh = join(tempDir(), 'new');
      fails(await cli(['remote', 'pull', '--remote', url, '--root', fresh]), 1, /remote pull: the remote .* cannot list its entries/);
      expect(existsSync(fresh)).toBe(false);
    });
  });
});
