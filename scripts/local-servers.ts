// Real servers on 127.0.0.1 only, for the remote tests, the benchmarks and the sweep example: Debian's redis-server,
// and nginx serving a WebDAV folder with JSON listings (the HTTP cache layout). Each lives in its own temporary
// folder and is stopped by pid; whatever is left running is killed when the process exits.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** A server started for a test. */
export interface TestServer {
  /** Its URL, without credentials and without a trailing slash: `redis://127.0.0.1:<port>`, `http://127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** The pid of the running process (a new one after restart()). */
  pid: number;
  /** SIGTERM, then SIGKILL if it has not exited within 5 s. Its folder stays, for restart() and for checks. */
  stop(): Promise<void>;
  /** SIGKILL, at once (a crash). */
  kill(): void;
  /** Starts it again on the same port with the same options (stopping it first if it runs). */
  restart(): Promise<void>;
}

export interface RedisServer extends TestServer {}

export interface NginxDavServer extends TestServer {
  /** The folder the uploaded files land in (the server's document root). */
  root: string;
}

const START_TIMEOUT_MS = 5000;
const STOP_TIMEOUT_MS = 5000;
const BIND_ATTEMPTS = 5;
const OUTPUT_LIMIT = 16 * 1024;

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

// The safety net: every child and folder still around when the test process exits.
const liveChildren = new Set<ChildProcess>();
const folders = new Set<string>();
let exitHookInstalled = false;

function cleanUp(): void {
  for (const child of liveChildren) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
  liveChildren.clear();
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  folders.clear();
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', cleanUp);
  // Vitest ends its worker processes with SIGTERM, which skips 'exit': clean up, then end as the signal would.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanUp();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/** A new temporary folder, removed when the test process ends. */
function tempFolder(prefix: string): string {
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  folders.add(dir);
  return dir;
}

/** The path of an executable: on PATH, else in the sbin/bin folders a non-login PATH may lack. */
function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  return dirs.filter(Boolean).map((dir) => join(dir, name)).find((path) => existsSync(path));
}

/** A port free on 127.0.0.1 right now (the OS's pick for port 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port from the OS'))));
    });
  });
}

/** A started process, its exit as a promise, and the start of what it printed (for error messages). */
interface Launched {
  child: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
}

function launch(command: string, args: string[]): Launched {
  installExitHook();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => { if (output.length < OUTPUT_LIMIT) output += chunk.toString('utf8'); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // A server a test forgot must not hold the test process open; the exit hook kills it.
  child.unref();
  (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
  liveChildren.add(child);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => { liveChildren.delete(child); resolve(code); });
    child.once('error', (error) => { output += String(error); liveChildren.delete(child); resolve(null); });
  });
  return { child, exited, output: () => output };
}

/** Waits (bounded) until `up()` says the server answers; false if the process exited first. */
async function waitUntilUp(launched: Launched, up: () => Promise<boolean>): Promise<boolean> {
  let exited = false;
  void launched.exited.then(() => { exited = true; });
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (let attempt = 0; attempt < 500 && Date.now() < deadline; attempt++) {
    if (exited) return false;
    if (await up()) return true;
    await sleep(25);
  }
  return false;
}

async function stopProcess(launched: Launched | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!launched || launched.child.exitCode !== null || launched.child.signalCode !== null) return;
  launched.child.kill(signal);
  // The timers are cleared once the process exits, so that they keep no caller's process alive.
  const within = async (ms: number) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<'timeout'>((done) => { timer = setTimeout(() => done('timeout'), ms); });
    try {
      return await Promise.race([launched.exited.then(() => 'exited' as const), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  };
  if (await within(STOP_TIMEOUT_MS) === 'timeout') {
    launched.child.kill('SIGKILL');
    await within(STOP_TIMEOUT_MS);
  }
}

/** Whether a Redis server answers on the port: +PONG, or -NOAUTH when it wants a password. */
function redisAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (up: boolean) => { socket.destroy(); resolve(up); };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(/^(\+PONG|-NOAUTH)/.test(reply));
    });
  });
}

/** Whether an HTTP server answers on the port (any status). */
async function httpAnswers(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/`, { method: 'HEAD', signal: AbortSignal.timeout(500) });
    await response.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a server from `argsFor(port)` on a free port (another one if it fails to bind), and gives the
 * handle shared by both kinds of server.
 */
async function startServer(kind: string, executable: string, argsFor: (port: number) => string[],
  up: (port: number) => Promise<boolean>, logFile?: string): Promise<TestServer> {
  // What the process printed, and the end of its log file (nginx reports a failed bind there).
  const report = (launched: Launched) => {
    const log = logFile && existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-OUTPUT_LIMIT) : '';
    return `${launched.output()}${log}`;
  };
  let launched: Launched | undefined;
  let port = 0;
  let lastOutput = '';
  // A fresh port each attempt: another process may take ours between freePort() and the bind.
  for (let attempt = 0; attempt < BIND_ATTEMPTS && !launched; attempt++) {
    port = await freePort();
    const candidate = launch(executable, argsFor(port));
    if (await waitUntilUp(candidate, () => up(port))) launched = candidate;
    else {
      await stopProcess(candidate, 'SIGKILL');
      lastOutput = report(candidate);
    }
  }
  if (!launched) throw new Error(`${kind} did not start on 127.0.0.1 within ${START_TIMEOUT_MS} ms (${BIND_ATTEMPTS} ports tried):\n${lastOutput}`);
  const scheme = kind === 'redis-server' ? 'redis' : 'http';
  const server: TestServer = {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    pid: launched.child.pid!,
    stop: () => stopProcess(launched),
    kill: () => {
      if (launched && launched.child.exitCode === null && launched.child.signalCode === null) launched.child.kill('SIGKILL');
    },
    restart: async () => {
      await stopProcess(launched);
      // The same port: it may still be held for a moment by the old socket.
      for (let attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
        const candidate = launch(executable, argsFor(port));
        if (await waitUntilUp(candidate, () => up(port))) {
          launched = candidate;
          server.pid = candidate.child.pid!;
          return;
        }
        await stopProcess(candidate, 'SIGKILL');
        lastOutput = report(candidate);
        await sleep(200);
      }
      throw new Error(`${kind} did not restart on 127.0.0.1:${port}:\n${lastOutput}`);
    },
  };
  return server;
}

export interface RedisOptions {
  /**
   * The password: of the default user (requirepass) alone; with `user`, of that ACL user too (the default user
   * keeps requiring it, so nothing is open without credentials).
   */
  password?: string;
  /** An ACL user with `password` and every permission. */
  user?: string;
  /** maxmemory, as redis-server takes it ('2mb'). */
  maxmemory?: string;
  /** maxmemory-policy; noeviction by default when maxmemory is given. */
  policy?: string;
  /** Also serve TLS (rediss://) on a second port, with this certificate (see makeTestCertificates). */
  tls?: TlsFiles;
}

/** A certificate for 127.0.0.1, its key, and the CA that signed it. */
export interface TlsFiles { cert: string; key: string; ca: string }

/**
 * A throwaway CA and a server certificate for 127.0.0.1 signed by it, made with the openssl command in `dir`.
 * @throws {Error} when openssl is not installed.
 */
export function makeTestCertificates(dir: string): TlsFiles {
  const openssl = findExecutable('openssl');
  if (!openssl) throw new Error('openssl is not installed: apt-get install openssl');
  mkdirSync(dir, { recursive: true });
  const at = (name: string) => join(dir, name);
  const run = (...args: string[]) => execFileSync(openssl, args, { stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=dase-cache test CA', '-keyout', at('ca.key'), '-out', at('ca.pem'));
  run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', at('server.key'), '-out', at('server.csr'));
  writeFileSync(at('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  run('x509', '-req', '-in', at('server.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial', '-days', '2',
    '-extfile', at('san.ext'), '-out', at('server.pem'));
  return { cert: at('server.pem'), key: at('server.key'), ca: at('ca.pem') };
}

/**
 * Starts Debian's redis-server on a free loopback port, without persistence, in a temporary folder.
 * @throws {Error} when redis-server is not installed, or does not answer PING within 5 s.
 * @example
 * const redis = await startRedis({ password: 'secret' });
 * const url = redis.url.replace('redis://', 'redis://:secret@');
 * await redis.stop();
 */
export async function startRedis(options: RedisOptions = {}): Promise<RedisServer & { tlsUrl?: string }> {
  const executable = findExecutable('redis-server');
  if (!executable) throw new Error('redis-server is not installed: apt-get install redis-server');
  if (options.user && !options.password) throw new TypeError('startRedis: an ACL user needs a password');
  const dir = tempFolder('dase-redis-');
  const extra: string[] = [];
  if (options.password) extra.push('--requirepass', options.password);
  if (options.user) extra.push('--user', options.user, 'on', `>${options.password}`, '~*', '&*', '+@all');
  if (options.maxmemory) extra.push('--maxmemory', options.maxmemory, '--maxmemory-policy', options.policy ?? 'noeviction');
  else if (options.policy) extra.push('--maxmemory-policy', options.policy);
  const tlsPort = options.tls ? await freePort() : undefined;
  if (options.tls) {
    extra.push('--tls-port', String(tlsPort), '--tls-cert-file', options.tls.cert, '--tls-key-file', options.tls.key,
      '--tls-ca-cert-file', options.tls.ca, '--tls-auth-clients', 'no');
  }
  const args = (port: number) => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--dir', dir, '--daemonize', 'no', '--logfile', '', ...extra];
  const server = await startServer('redis-server', executable, args, redisAnswers);
  return tlsPort === undefined ? server : Object.assign(server, { tlsUrl: `rediss://127.0.0.1:${tlsPort}` });
}

// What lets a page of another origin (a browser demo) read and write the HTTP cache.
const CORS = `add_header Access-Control-Allow-Origin * always;
    add_header Access-Control-Allow-Methods "GET, HEAD, PUT, OPTIONS" always;
    add_header Access-Control-Allow-Headers "authorization, content-type, accept" always;
    if ($request_method = OPTIONS) { return 204; }`;

/**
 * Starts Debian's nginx (one process, no master) on a free loopback port, serving a WebDAV folder (PUT,
 * DELETE, MKCOL, full paths created) with JSON listings, every path of its own in a temporary folder.
 * @param options.token when given, every request without `authorization: Bearer <token>` gets a 401.
 * @param options.cors when true, pages of any origin may use it (preflights answered, CORS headers on every answer).
 * @throws {Error} when nginx is not installed, or does not answer HTTP within 5 s.
 */
export async function startNginxDav(options: { token?: string; cors?: boolean; tls?: TlsFiles } = {}): Promise<NginxDavServer & { tlsUrl?: string }> {
  const executable = findExecutable('nginx');
  if (!executable) throw new Error('nginx is not installed: apt-get install nginx-light');
  if (options.token !== undefined && !/^[\w.~+/=-]+$/.test(options.token)) {
    throw new TypeError(`startNginxDav: expected a token of letters, digits and ._~+/=-, got ${JSON.stringify(options.token)}`);
  }
  const dir = tempFolder('dase-nginx-');
  const root = join(dir, 'data');
  const temp = join(dir, 'temp');
  for (const folder of [root, temp]) mkdirSync(folder, { recursive: true });
  const tlsPort = options.tls ? await freePort() : undefined;
  const tls = options.tls
    ? `listen 127.0.0.1:${tlsPort} ssl;\n    ssl_certificate ${options.tls.cert};\n    ssl_certificate_key ${options.tls.key};`
    : '';
  const config = (port: number) => `
daemon off;
# One process: a SIGKILL (kill()) leaves no orphaned worker serving on the port, and nothing switches user.
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  default_type application/octet-stream;
  client_body_temp_path ${temp}/body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
  server {
    listen 127.0.0.1:${port};
    ${tls}
    root ${root};
    client_max_body_size 0;
    ${options.cors ? CORS : ''}
    ${options.token !== undefined ? `if ($http_authorization != "Bearer ${options.token}") { return 401; }` : ''}
    location / {
      dav_methods PUT DELETE MKCOL;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
      autoindex on;
      autoindex_format json;
    }
  }
}
`;
  const args = (port: number) => {
    const file = join(dir, 'nginx.conf');
    writeFileSync(file, config(port));
    return ['-p', `${dir}/`, '-c', file, '-e', join(dir, 'error.log')];
  };
  const server = await startServer('nginx', executable, args, httpAnswers, join(dir, 'error.log'));
  return Object.assign(server, { root, ...(tlsPort === undefined ? {} : { tlsUrl: `https://127.0.0.1:${tlsPort}` }) });
}
