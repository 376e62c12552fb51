// dase-cache remote status | push [category] | pull [category] | ls [category]: the shared remote cache
// (Redis, or an HTTP cache in Bazel's /cas/ /ac/ layout) seen from this root.

import { existsSync } from 'node:fs';
import { resolveRemoteOptions } from '../../remote/options.js';
import { SUMMED, type RemoteTotals } from '../../remote/counts-log.js';
import { listRemote, pullFromRemote, pushToRemote, type CacheManager, type Manifest, type RemoteOptions, type SyncReport } from '../../node.js';
import type { Command, CommandContext } from '../command.js';
import { checkCategory } from '../context.js';
import { EXIT, problemError, usageError } from '../errors.js';
import { formatAge, formatBytes, formatMs, plural, table } from '../format.js';
import { progressBar } from '../progress.js';

const SUBCOMMANDS = ['status', 'push', 'pull', 'ls'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

const HELP = 'run "dase-cache remote --help" for its usage';

/** The remote option from --remote/--token, else $DASE_CACHE_REMOTE/$DASE_CACHE_REMOTE_TOKEN. @throws {CliError} (exit 2) */
function remoteOption(sub: Subcommand, values: CommandContext['values']): RemoteOptions {
  const given = values.remote as string | undefined;
  if (given === '') throw usageError(`remote ${sub}: --remote: expected a URL, got an empty string; ${HELP}`);
  const url = given ?? (process.env.DASE_CACHE_REMOTE || undefined);
  if (url === undefined) {
    throw usageError(`remote ${sub}: no remote; pass --remote <url> (redis://host:6379/0, or http(s)://host/path for an HTTP cache) `
      + 'or set DASE_CACHE_REMOTE');
  }
  const tokenOption = values.token as string | undefined;
  if (tokenOption === '') throw usageError(`remote ${sub}: --token: expected a token, got an empty string`);
  const token = tokenOption ?? (process.env.DASE_CACHE_REMOTE_TOKEN || undefined);
  try {
    const resolved = resolveRemoteOptions(token === undefined ? url : { url, token });
    // A token given to a Redis remote would be ignored without a word; one in the environment may serve other remotes.
    if (resolved?.scheme === 'redis' && tokenOption !== undefined) {
      throw new RangeError('--token is for HTTP remotes; a Redis remote takes its password in the URL (redis://:password@host:6379/0)');
    }
  } catch (error) {
    // The messages never quote the URL, which may hold a password.
    throw usageError(`remote ${sub}: ${(error as Error).message.replace(/^CacheManager: /, '')}; ${HELP}`);
  }
  return token === undefined ? { url } : { url, token };
}

/** The counts of the history log in the CLI's snake_case, as status prints them. */
function historyJson(totals: RemoteTotals | undefined): Record<string, number | string> | null {
  if (!totals) return null;
  const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return { processes: totals.processes, last_used: totals.last_used, ...Object.fromEntries(SUMMED.map((name) => [snake(name), totals[name]])) };
}

/** Aligned `name  value` lines. */
function pairs(rows: [string, string][]): string[] {
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`);
}

async function status({ root, json, print, printJson }: CommandContext, cache: CacheManager): Promise<number> {
  const remote = cache.remote!;
  const { url, kind } = remote.stats();
  // status() times its first exchange, which on a fresh connection includes connecting (and, for Redis, loading
  // its client): one ping first, so that the latency is a round trip. A remote that fails it is not asked
  // again, which would double the wait for one that does not answer.
  const look = await remote.backend.ping().then(() => remote.status(),
    (error: unknown) => ({ reachable: false, latencyMs: undefined, usage: undefined, error: (error as Error).message }));
  // Only a root that exists: reading the log of one that does not would be harmless, but there is nothing to read.
  const history = existsSync(root) ? (await cache.remoteHistory())[url] : undefined;
  const usage = look.usage ?? {};
  const report = {
    root, url, kind, reachable: look.reachable, latency_ms: look.latencyMs ?? null, error: look.error ?? null,
    entries: usage.entries ?? null, blobs: usage.blobs ?? null, bytes: usage.bytes ?? null, history: historyJson(history),
  };
  const unreachable = () => problemError(`remote status: the remote ${url} is not reachable: ${look.error}`);
  if (json) {
    printJson(report);
    if (!look.reachable) throw unreachable();
    return EXIT.ok;
  }
  let holds = 'unknown';
  if (look.reachable) {
    holds = report.entries === null && report.blobs === null
      // An HTTP server that lists folders answers 404 for /ac/ until the first upload, like one that cannot list.
      ? `unknown (${kind === 'http' ? 'no JSON listing of /ac/ or /cas/: the server cannot list them, or holds nothing yet' : 'the server cannot count them'})`
      : [report.entries === null ? 'entries unknown' : plural(report.entries, 'entry', 'entries'),
        report.blobs === null ? 'blobs unknown' : plural(report.blobs, 'blob'),
        report.bytes === null ? 'size unknown' : formatBytes(report.bytes)].join(', ');
  }
  const rows: [string, string][] = [
    ['remote', `${url} (${kind})`],
    ['reachable', look.reachable ? `yes, round trip ${formatMs(look.latencyMs ?? 0)}` : `no: ${look.error}`],
    ['holds', holds],
  ];
  if (history) {
    rows.push(['used here', `by ${plural(history.processes, 'process', 'processes')}, last ${formatAge(history.last_used)} (cache: ${root})`]);
    rows.push(['', [plural(history.hits, 'hit'), plural(history.misses, 'miss', 'misses'), plural(history.uploads, 'upload'),
      plural(history.errors, 'error'), plural(history.timeouts, 'timeout'), `${history.rejected} rejected`].join(', ')]);
  } else {
    rows.push(['used here', `no record (${existsSync(root) ? `no process that used this remote has closed a cache in ${root}` : `${root} does not exist`})`]);
  }
  for (const line of pairs(rows)) print(line);
  if (!look.reachable) throw unreachable();
  return EXIT.ok;
}

async function sync(sub: 'push' | 'pull', { root, json, print, printJson }: CommandContext, cache: CacheManager, category: string | undefined): Promise<number> {
  const url = cache.remote!.stats().url;
  const bar = progressBar(`remote ${sub}`, { delayMs: 300 });
  let report: SyncReport;
  // The tier's warnings speak to a program ("counted in getStats().remote"); what they say, this command
  // reports itself below, with the last error.
  const warn = console.warn;
  console.warn = () => undefined;
  try {
    const options = { ...(category === undefined ? {} : { category }), onProgress: (done: number, total: number) => bar.update(done, total, 'entries') };
    report = sub === 'push' ? await pushToRemote(cache, options) : await pullFromRemote(cache, options);
  } finally {
    console.warn = warn;
    bar.finish();
  }
  const { remoteFailures: failures, lastError, ...counts } = report;
  if (json) {
    printJson({ root, remote: url, category: category ?? null, ...counts, remote_failures: failures, last_error: lastError });
  } else {
    for (const f of report.failed) print(`failed  ${f.category}/${f.key}: ${f.reason}`);
    const copied = sub === 'push' ? `${report.copied} published` : `${report.copied} copied`;
    const why = report.skipped === 0 || failures > 0 ? ''
      : sub === 'push' ? ' (larger than the remote takes, or the upload queue was full)' : ' (already here, or of a category this cache lacks)';
    print(`${sub === 'push' ? `pushed ${root} to ${url}` : `pulled ${url} into ${root}`}${category === undefined ? '' : ` (${category})`}: `
      + `${copied} (${formatBytes(report.bytes)}), ${report.skipped} skipped${why}, ${report.failed.length} failed`);
  }
  if (failures > 0) {
    throw problemError(`remote ${sub}: the remote ${url} failed ${plural(failures, 'time')} (last: ${lastError}); `
      + `the entries not ${sub === 'push' ? 'published' : 'copied'} for it count as skipped: run "dase-cache remote ${sub}" again when it answers`);
  }
  if (report.failed.length > 0) {
    throw problemError(sub === 'push'
      ? `remote push: ${plural(report.failed.length, 'entry', 'entries')} could not be read; run "dase-cache validate --repair"`
      : `remote pull: ${plural(report.failed.length, 'download')} refused (the blob did not hash to its name); nothing of them was kept`);
  }
  return EXIT.ok;
}

async function list({ json, print, printJson }: CommandContext, cache: CacheManager, category: string | undefined): Promise<number> {
  const url = cache.remote!.stats().url;
  const manifests: Manifest[] = (await listRemote(cache)).filter((m) => category === undefined || m.category === category);
  // A category this root lacks may still be on the remote (a program's own, from another machine).
  if (category !== undefined && manifests.length === 0) checkCategory(cache, category);
  if (json) {
    printJson({ remote: url, category: category ?? null, manifests });
    return EXIT.ok;
  }
  if (manifests.length === 0) {
    print(`no entries${category === undefined ? '' : ` in ${category}`} on ${url}`);
    return EXIT.ok;
  }
  const now = Date.now();
  const rows = manifests.map((m) => [m.category, m.key, formatBytes(m.blob.size), String(m.value.kind), formatAge(m.created_at, now)]);
  for (const line of table([{ title: 'CATEGORY' }, { title: 'KEY' }, { title: 'SIZE', align: 'right' }, { title: 'KIND' }, { title: 'CREATED' }], rows)) print(line);
  print(`${plural(manifests.length, 'entry', 'entries')}, ${formatBytes(manifests.reduce((n, m) => n + m.blob.size, 0))} on ${url}`);
  return EXIT.ok;
}

/** `remote status | push [category] | pull [category] | ls [category]`. */
export const remote: Command = {
  name: 'remote',
  summary: 'the shared remote cache: status, push, pull, ls',
  usage: 'status | push [category] | pull [category] | ls [category]',
  description: 'Works with the remote cache shared by many machines (Redis, or an HTTP cache in the layout of Bazel\'s remote '
    + 'cache: /cas/, /ac/), given by --remote or $DASE_CACHE_REMOTE; an HTTP bearer token by --token or '
    + '$DASE_CACHE_REMOTE_TOKEN. Credentials never appear in what it prints.\n'
    + '  status           whether the remote answers and how fast, what it holds (as far as the server can count:\n'
    + '                   an HTTP cache without JSON listings cannot), and its hits, misses, uploads and failures\n'
    + '                   for this root, summed over every process that used it from here; exit 1 if it does not answer\n'
    + '  push [category]  publishes the entries of this cache, each file verified first\n'
    + '  pull [category]  copies the entries the remote has and this cache lacks, each verified by its SHA-256\n'
    + '                   (creates the cache if needed)\n'
    + '  ls [category]    the entries on the remote (Redis, or an HTTP cache with JSON listings)\n'
    + 'status and ls neither create nor change anything in the local cache. push and pull exit 1 when an entry '
    + 'failed or the remote failed during the transfer; on a terminal they show a progress bar.',
  positionals: { min: 1, max: 2 },
  options: {
    remote: { type: 'string', value: 'url', description: 'redis://[:password@]host:6379/0, rediss://..., or http(s)://host/path (default: $DASE_CACHE_REMOTE)' },
    token: { type: 'string', value: 'token', description: 'HTTP bearer token (default: $DASE_CACHE_REMOTE_TOKEN)' },
  },
  examples: [
    ['dase-cache remote status --remote redis://cache.lab:6379/0', 'is the remote up, how fast, what it holds, how it served this cache'],
    ['DASE_CACHE_REMOTE=https://ci:secret@cache.example/sim dase-cache remote push stencils', 'publish the stencils of ./cache'],
    ['dase-cache remote pull --root /scratch/cache', 'fill a fresh cache with what the remote has'],
    ['dase-cache remote ls fractional_kernels --json | jq -r \'.manifests[].key\'', 'the keys on the remote, for a script'],
  ],
  json: 'status: { "root", "url", "kind": "redis"|"http", "reachable": boolean, "latency_ms": number|null, "error": string|null, '
    + '"entries": number|null, "blobs": number|null, "bytes": number|null (null: the server cannot count), "history": { "processes", '
    + '"last_used", "hits", "misses", "uploads", "bytes_uploaded", "bytes_downloaded", "errors", "timeouts", "rejected", "skipped", '
    + '"not_uploaded" }|null }; push and pull: { "root", "remote", "category": string|null, "copied", "skipped", "failed": [{ '
    + '"category", "key", "reason" }], "bytes", "remote_failures", "last_error": string|null }; ls: { "remote", "category": '
    + 'string|null, "manifests": [{ "format", "category", "key", "blob": { "sha256", "size", "ext" }, "value": { "kind", ... }, '
    + '"metadata"?, "created_at" }] }',
  async run(context) {
    const { positionals, values, openCache } = context;
    const [word, category] = positionals;
    if (!(SUBCOMMANDS as readonly string[]).includes(word)) {
      throw usageError(`remote: unknown subcommand ${JSON.stringify(word)} (expected ${SUBCOMMANDS.join(', ')}); ${HELP}`);
    }
    const sub = word as Subcommand;
    if (sub === 'status' && category !== undefined) throw usageError(`remote status: unexpected argument ${JSON.stringify(category)}; ${HELP}`);
    const remoteOptions = remoteOption(sub, values);
    const cache = await openCache({ remote: remoteOptions, create: sub === 'pull', remoteOnly: sub === 'status' || sub === 'ls' });
    if (category !== undefined && sub !== 'ls') checkCategory(cache, category);
    if (sub === 'status') return status(context, cache);
    if (sub === 'ls') return list(context, cache, category);
    return sync(sub, context, cache, category);
  },
};
