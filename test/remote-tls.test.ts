// The remote over TLS (rediss:// and https://) on servers started here with a throwaway CA: a client that
// trusts the CA publishes and loads; one that does not is refused by the certificate check, counts the
// failures, and still works locally. Each client is a process of its own, since Node reads
// NODE_EXTRA_CA_CERTS at start.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCertificates, startNginxDav, startRedis, type TlsFiles } from '../scripts/local-servers.js';
import { FIRST_BUILD_PASS } from './fixtures/util.js';

const CLIENT = fileURLToPath(new URL('./fixtures/remote-tls-client.ts', import.meta.url));
const REPO = fileURLToPath(new URL('..', import.meta.url));

interface Outcome { loaded: boolean; written: { uploads: number; errors: number }; read: { hits: number; errors: number } }

describe.skipIf(!FIRST_BUILD_PASS)('the remote over TLS', () => {
  let dir: string;
  let tls: TlsFiles;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let nginx: Awaited<ReturnType<typeof startNginxDav>>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dase-remote-tls-'));
    tls = makeTestCertificates(join(dir, 'certs'));
    redis = await startRedis({ tls });
    nginx = await startNginxDav({ tls });
  }, 60_000);

  afterAll(async () => {
    await redis?.stop();
    await nginx?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function client(url: string, trust: boolean, name: string): Outcome {
    const env = { ...process.env };
    delete env.DASE_CACHE_REMOTE;
    if (trust) env.NODE_EXTRA_CA_CERTS = tls.ca;
    else delete env.NODE_EXTRA_CA_CERTS;
    const run = spawnSync(process.execPath, ['--import', 'tsx', CLIENT, join(dir, name), url], { cwd: REPO, env, encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Outcome;
  }

  it.each(['rediss', 'https'])('%s: a client that trusts the CA publishes and loads back', (scheme) => {
    const url = scheme === 'rediss' ? redis.tlsUrl! : `${nginx.tlsUrl!}/tls`;
    const outcome = client(url, true, `${scheme}-trusted`);
    expect(outcome).toMatchObject({ loaded: true, written: { uploads: 1, errors: 0 }, read: { hits: 1, errors: 0 } });
  });

  it.each(['rediss', 'https'])('%s: a client that does not trust the certificate is refused, counts it, and works locally', (scheme) => {
    const url = scheme === 'rediss' ? redis.tlsUrl! : `${nginx.tlsUrl!}/untrusted`;
    const outcome = client(url, false, `${scheme}-untrusted`);
    expect(outcome.loaded).toBe(false);
    expect(outcome.written.uploads).toBe(0);
    expect(outcome.written.errors + outcome.read.errors).toBeGreaterThan(0);
  });
});
