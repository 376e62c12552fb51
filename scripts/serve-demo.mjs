// Builds the browser demo (demo/) with esbuild into build/demo/ and serves it on 127.0.0.1:
//
//   npm run demo                   # http://127.0.0.1:8787/
//   npm run demo -- --port 0       # any free port (PORT=9000 npm run demo works too)
//   node scripts/serve-demo.mjs --out /tmp/demo --port 0    # build elsewhere (the tests run two at once)
//
// Every response carries the Content-Security-Policy of a strict site: scripts from the origin only, no
// inline code, WebAssembly allowed ('wasm-unsafe-eval', which Chromium asks for any compilation, embedded
// bytes and init({ url }) alike). The kernels' .wasm files are copied beside the bundle, for init({ url }).

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_PORT = 8787;

const CSP = [
  "default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "worker-src 'self'", "style-src 'self'",
  "img-src 'self' data:", "connect-src 'self'", "object-src 'none'", "base-uri 'none'",
].join('; ');

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm', '.map': 'application/json', '.png': 'image/png', '.ico': 'image/x-icon',
};

function option(name) {
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}`) return args[i + 1];
    if (args[i].startsWith(`--${name}=`)) return args[i].slice(name.length + 3);
  }
  return undefined;
}

function parsePort(text) {
  if (text === undefined || text === '') return DEFAULT_PORT;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`serve-demo: expected a port in [0, 65535], got ${text}`);
  return port;
}

/** Bundles demo/main.ts and demo/worker.ts for browsers and copies the page, its style and the .wasm files. */
async function buildDemo(out) {
  if (!existsSync(join(root, 'src', 'wasm', 'generated', 'embedded.ts'))) {
    execFileSync(process.execPath, [join(root, 'scripts', 'build-wasm.mjs')], { stdio: 'inherit' });
  }
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: { main: join(root, 'demo', 'main.ts'), worker: join(root, 'demo', 'worker.ts') },
    outdir: out,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    // The cache's errors take their class's name (new.target.name): keep it through minification.
    keepNames: true,
    sourcemap: true,
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'style.css']) copyFileSync(join(root, 'demo', file), join(out, file));
  for (const file of ['kernels-simd.wasm', 'kernels-scalar.wasm']) copyFileSync(join(root, 'build', file), join(out, file));
}

/** Serves the files of `dir`, and nothing outside it. */
function serve(dir, port) {
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    const file = resolve(dir, `.${normalize(path.endsWith('/') ? `${path}index.html` : path)}`);
    const inside = file === dir || file.startsWith(`${dir}${sep}`);
    if (!inside || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found: ${path}\n`);
      return;
    }
    response.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-security-policy': CSP,
      // Each load fetches the current build: what a reload keeps is the cache in OPFS, not the HTTP cache.
      'cache-control': 'no-store',
    });
    response.end(readFileSync(file));
  });
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => done(server));
  });
}

const out = resolve(option('out') ?? join(root, 'build', 'demo'));
const port = parsePort(option('port') ?? process.env.PORT);
await buildDemo(out);
let server;
try {
  server = await serve(out, port);
} catch (error) {
  console.error(error.code === 'EADDRINUSE'
    ? `serve-demo: port ${port} is in use; choose another with --port <n> (0 for any free port)`
    : `serve-demo: cannot listen on 127.0.0.1:${port}: ${error.message}`);
  process.exit(1);
}
console.log(`dase-cache demo: http://127.0.0.1:${server.address().port}/  (built into ${out}; Ctrl-C stops it)`);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
