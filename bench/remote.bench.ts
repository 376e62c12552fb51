// The remote tier on loopback servers started for the run (Debian's redis-server, nginx's WebDAV folder): a
// remote hit of an 8 MB result against a local verified load and against computing it again, and what a miss
// costs when the remote is down, once its first failure is known.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheManager, CacheMissError, glDerivative } from '../src/node.js';
import { startNginxDav, startRedis } from '../scripts/local-servers.js';
import { compareAsync, formatTime, median, type ComparisonResult } from './_harness.js';

const N = 1_000_000; // 8 MB of Float64
const ALPHA = 0.5;
const DT = 1e-3;
const CATEGORY = 'state_profiles';

/** What a miss costs with the remote down, against a cache with no remote. */
export interface DownMissResult {
  name: string;
  medianMsWithRemote: number;
  medianMsLocalOnly: number;
  addedMs: number;
  targetAddedMs: number;
  met: boolean;
}

async function missTimes(cache: CacheManager, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    try {
      await cache.load(CATEGORY, `absent_${i}`);
    } catch (error) {
      if (!(error instanceof CacheMissError)) throw error;
    }
    times.push(performance.now() - started);
  }
  return times;
}

export async function benchRemote(): Promise<(ComparisonResult | DownMissResult)[]> {
  const dir = mkdtempSync(join(tmpdir(), 'dase-remote-bench-'));
  const redis = await startRedis();
  const dav = await startNginxDav();
  const results: (ComparisonResult | DownMissResult)[] = [];
  const managers: CacheManager[] = [];
  const open = (name: string, remote: unknown) => {
    const cache = new CacheManager({ root: join(dir, name), remote: remote as string });
    managers.push(cache);
    return cache;
  };
  try {
    const signal = Float64Array.from({ length: N }, (_, i) => Math.sin(i * 1e-3));
    const value = glDerivative(signal, ALPHA, DT);
    const local = open('local', false);
    await local.save(CATEGORY, 'result', value);
    for (const [label, url] of [['Redis', redis.url], ['HTTP (nginx WebDAV)', `${dav.url}/bench`]] as const) {
      const publisher = open(`publisher-${label}`, url);
      await publisher.save(CATEGORY, 'result', value);
      await publisher.settleBackground();
      const consumer = open(`consumer-${label}`, url);
      results.push(await compareAsync({
        name: `remote hit, 8 MB Float64Array on loopback ${label} (download, SHA-256, local copy)`,
        subject: {
          name: `remote hit (${label})`,
          run: async () => {
            const got = await consumer.fetchRemote(CATEGORY, 'result');
            if (!got) throw new Error(`bench: the remote ${label} missed`);
            return got.value;
          },
        },
        baselines: [
          { name: 'local verified load', run: () => local.load(CATEGORY, 'result') },
          { name: 'recompute (glDerivative, n = 1e6)', run: async () => glDerivative(signal, ALPHA, DT) },
        ],
        bytesPerOp: N * 8,
        rounds: 7,
        sliceMs: 200,
      }));
    }

    // A remote that is down: the first miss meets the failure; after it, the breaker skips the remote.
    for (const [label, server, url] of [['Redis', redis, redis.url], ['HTTP', dav, `${dav.url}/bench`]] as const) {
      await server.stop();
      const down = open(`down-${label}`, { url, timeoutMs: 500 });
      const alone = open(`alone-${label}`, false);
      await missTimes(down, 3); // the first failure, and warm-up
      await missTimes(alone, 3);
      const withRemote: number[] = [];
      const localOnly: number[] = [];
      for (let round = 0; round < 9; round++) {
        withRemote.push(median(await missTimes(down, 50)));
        localOnly.push(median(await missTimes(alone, 50)));
      }
      const result: DownMissResult = {
        name: `miss with the ${label} remote down, after the first failure`,
        medianMsWithRemote: median(withRemote), medianMsLocalOnly: median(localOnly),
        addedMs: median(withRemote) - median(localOnly), targetAddedMs: 1, met: median(withRemote) - median(localOnly) < 1,
      };
      console.log(`${result.name}: ${formatTime(result.medianMsWithRemote)} per miss, `
        + `${formatTime(result.medianMsLocalOnly)} without a remote: +${formatTime(Math.max(0, result.addedMs))} (target < 1 ms)\n`);
      results.push(result);
    }
  } finally {
    for (const m of managers) await m.close().catch(() => undefined);
    await redis.stop().catch(() => undefined);
    await dav.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
