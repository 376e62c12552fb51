// Builds what tests run as child processes (the dase-cache binary, dist/cli/main.js) once per test run,
// and only what is out of date: the WASM kernels when assembly/ changed, dist/ when src/ changed.
// A failed build is reported and the run goes on: the tests that need it then fail and say why.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const EMBEDDED = join(REPO, 'src/wasm/generated/embedded.ts');
const WASM_FILES = ['simd', 'scalar'].map((build) => join(REPO, `build/kernels-${build}.wasm`));
const STAMP = join(REPO, 'dist/.build-stamp');

/** The newest modification time of the files under `paths` (0 when there are none). */
function newest(...paths: string[]): number {
  let latest = 0;
  for (const path of paths) {
    if (!existsSync(path)) continue;
    const stat = statSync(path);
    if (!stat.isDirectory()) { latest = Math.max(latest, stat.mtimeMs); continue; }
    for (const name of readdirSync(path)) latest = Math.max(latest, newest(join(path, name)));
  }
  return latest;
}

const mtime = (path: string) => (existsSync(path) ? statSync(path).mtimeMs : 0);

function wasmIsStale(): boolean {
  // What scripts/build-wasm.mjs writes: the binaries (read by file or URL: loader.test.ts, the browser demo)
  // and the module that embeds them.
  const outputs = [EMBEDDED, ...WASM_FILES];
  if (!outputs.every((path) => existsSync(path))) return true;
  const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
  // The package version is embedded in the generated module: a new version needs a new build.
  if (!readFileSync(EMBEDDED, 'utf8').includes(`LIBRARY_VERSION = '${version}'`)) return true;
  const sources = newest(join(REPO, 'assembly'), join(REPO, 'asconfig.json'), join(REPO, 'scripts/build-wasm.mjs'));
  return outputs.some((path) => sources > mtime(path));
}

function step(what: string, command: string[]): void {
  const started = Date.now();
  try {
    execFileSync(process.execPath, command, { cwd: REPO, stdio: 'pipe' });
    console.log(`global setup: ${what} (${Date.now() - started} ms)`);
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: Buffer; stderr?: Buffer };
    console.warn(`global setup: ${what} reported errors:\n${stdout}${stderr}`);
  }
}

export default function setup(): void {
  if (wasmIsStale()) step('built the WASM kernels', ['scripts/build-wasm.mjs']);
  if (newest(join(REPO, 'src'), join(REPO, 'tsconfig.json')) > mtime(STAMP)) {
    const started = Date.now();
    // tsc emits even when it finds type errors (noEmitOnError is off): the stamp marks the emit.
    step('compiled src/ into dist/', [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
    mkdirSync(join(REPO, 'dist'), { recursive: true });
    // Dated when the build started, so that a file saved during the build counts as newer next time.
    writeFileSync(STAMP, `${new Date(started).toISOString()}\n`);
    utimesSync(STAMP, new Date(started), new Date(started));
  }
}
