// The remote's counts of every process that used it from this cache root, so that `dase-cache remote status`
// can say how the remote served this root over time: one line appended per CacheManager at close (one write
// call, so concurrent closers never interleave), summed per remote URL when read.

import type { Files } from '../cache/files.js';
import type { RemoteStats } from './tier.js';

export const REMOTE_COUNTS_FILE = '.remote-counts.jsonl';

/** The counts that add up across processes. */
export const SUMMED = ['hits', 'misses', 'uploads', 'bytesUploaded', 'bytesDownloaded', 'errors', 'timeouts', 'rejected', 'skipped', 'notUploaded'] as const;

/**
 * What a remote did for a cache root, summed over the processes that used it (`remoteHistory()`): the counts of
 * {@link RemoteStats} that add up (`hits`, `misses`, `uploads`, `bytesUploaded`, `bytesDownloaded`, `errors`,
 * `timeouts`, `rejected`, `skipped`, `notUploaded`), the number of processes, and when the remote was last used.
 */
export type RemoteTotals = Record<(typeof SUMMED)[number], number> & {
  /** Processes that used the remote from this root. */
  processes: number;
  /** When one of them last closed its CacheManager (ISO 8601). */
  last_used: string;
};

const encoder = new TextEncoder();

/** Appends one process's counts (nothing when it never used the remote). */
export async function appendRemoteCounts(files: Files, stats: RemoteStats): Promise<void> {
  if (SUMMED.every((name) => stats[name] === 0)) return;
  const line: Record<string, unknown> = { url: stats.url, at: new Date().toISOString() };
  for (const name of SUMMED) line[name] = stats[name];
  await files.append(REMOTE_COUNTS_FILE, encoder.encode(`${JSON.stringify(line)}\n`));
}

/** The counts of every process so far, per remote URL (credentials redacted); torn lines are skipped. */
export async function readRemoteCounts(files: Files): Promise<Record<string, RemoteTotals>> {
  const bytes = await files.read(REMOTE_COUNTS_FILE);
  const totals: Record<string, RemoteTotals> = {};
  if (!bytes) return totals;
  for (const text of new TextDecoder().decode(bytes).split('\n')) {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (typeof line?.url !== 'string' || typeof line.at !== 'string') continue;
    const total = totals[line.url] ??= { ...Object.fromEntries(SUMMED.map((name) => [name, 0])), processes: 0, last_used: line.at } as RemoteTotals;
    for (const name of SUMMED) if (typeof line[name] === 'number') total[name] += line[name] as number;
    total.processes++;
    if (line.at > total.last_used) total.last_used = line.at;
  }
  return totals;
}
