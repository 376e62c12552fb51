// The browser demo served on a free loopback port by scripts/serve-demo.mjs (its own bundle, its strict
// Content-Security-Policy), for the Chromium tests and the browser bench; stopped by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface DemoServer {
  /** http://127.0.0.1:<port>/ */
  url: string;
  /** SIGTERM, then SIGKILL after 5 s: its handler waits for open connections, and a lingering one must not hold the caller. */
  stop(): Promise<void>;
}

async function stop(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null || server.pid === undefined) return;
  const exited = new Promise<void>((done) => server.once('exit', () => done()));
  process.kill(server.pid, 'SIGTERM');
  const kill = setTimeout(() => { if (server.exitCode === null && server.signalCode === null) process.kill(server.pid!, 'SIGKILL'); }, 5_000);
  await exited;
  clearTimeout(kill);
}

/** Builds the demo into `out` and serves it; resolves once the server prints its address (30 s at most). */
export async function startDemoServer(out: string): Promise<DemoServer> {
  const server = spawn(process.execPath, [join(REPO, 'scripts', 'serve-demo.mjs'), '--port', '0', '--out', out], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve-demo printed no address in 30 s:\n${output}`)), 30_000);
      const read = (chunk: Buffer) => {
        output += chunk;
        const found = /http:\/\/127\.0\.0\.1:\d+\//.exec(output);
        if (found) { clearTimeout(timer); resolve(found[0]); }
      };
      server.stdout!.on('data', read);
      server.stderr!.on('data', read);
      server.once('exit', (code) => { clearTimeout(timer); reject(new Error(`serve-demo exited with ${code}:\n${output}`)); });
    });
    return { url, stop: () => stop(server) };
  } catch (error) {
    await stop(server);
    throw error;
  }
}
