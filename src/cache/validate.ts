// validate(): every index entry against its file and checksum, every file against the index; with repair,
// interrupted saves are settled as compaction settles them, damaged entries and leftover files go, files
// that lost their entry are adopted with the description they carry, and index.json is rebuilt.

import type { CategorySpec } from './categories.js';
import type { CategoryIndex, IndexEntry } from './category-index.js';
import { nowIso } from './category-index.js';
import type { Files } from './files.js';
import { KEY_PATTERN } from './keys.js';
import { INDEX_FILE, nameKind, parseDataFileName, sidecarName, sidecarTarget } from './layout.js';
import { describedBy, entryNeedsSidecar, readSidecar, sidecarBytes } from './self-description.js';
import { decodeValue, describeStoredFile } from './values.js';

export type Problem =
  | 'index_unreadable'      // index.json is not valid JSON of the expected shape
  | 'missing_file'          // an entry whose file is gone
  | 'checksum_mismatch'     // an entry whose file does not hash to its checksum
  | 'undecodable'           // the file hashes right but cannot be read back
  | 'orphan_file'           // a data file no entry points to
  | 'temp_file'             // a temporary file left by a writer that was killed
  | 'stale_description'     // a sidecar that describes no entry's file as it is
  | 'missing_description';  // an entry whose file needs a sidecar to describe itself, and has none

export interface Finding { problem: Problem; key?: string; file?: string; detail?: string }

export interface CategoryReport {
  entries: number;
  problems: Finding[];
  /** What repair did: 'removed <file>', 'adopted <key>', 'described <file>', 'rebuilt index.json'. */
  actions: string[];
  repaired: boolean;
}

interface Context {
  files: Files;
  index: CategoryIndex;
  category: string;
  spec: CategorySpec;
  /** The index's checksum field for the bytes ('sha256:<hex>'). */
  entryChecksum: (bytes: Uint8Array) => string;
  repair: boolean;
  /** Called as each index entry is taken up for checking (for progress reports). */
  onEntryChecked?: () => void;
}

// A temporary file younger than this may belong to a save in progress in another process (on this host,
// a writer's pid in the name tells at once).
const TEMP_GRACE_MS = 60_000;


export async function validateCategory(ctx: Context): Promise<CategoryReport> {
  const { index, repair } = ctx;
  return repair ? index.locked(() => check(ctx)) : check(ctx);
}

async function check(ctx: Context): Promise<CategoryReport> {
  const { files, index, category, entryChecksum, repair } = ctx;
  const path = (name: string) => `${category}/${name}`;
  await index.refresh();
  // Under the lock no save is in progress: a put without its commit is a writer that died.
  if (repair) await index.settlePending(async (e) => { const b = await files.read(path(e.file)); return b !== undefined && entryChecksum(b) === e.checksum; });
  const report: CategoryReport = { entries: index.all().length, problems: [], actions: [], repaired: false };
  if (index.damaged) report.problems.push({ problem: 'index_unreadable', file: INDEX_FILE });

  const sound = new Map<string, IndexEntry>();
  const byFile = new Map<string, IndexEntry>();
  for (const entry of index.all()) {
    ctx.onEntryChecked?.();
    byFile.set(entry.file, entry);
    const bytes = await files.read(path(entry.file));
    if (bytes === undefined) {
      report.problems.push({ problem: 'missing_file', key: entry.key, file: entry.file });
      continue;
    }
    const found = entryChecksum(bytes);
    // Without the lock a save may be in progress: its file holds either version.
    const version = found === entry.checksum ? entry : index.getPending(entry.key);
    if (version?.checksum !== found) {
      report.problems.push({ problem: 'checksum_mismatch', key: entry.key, file: entry.file, detail: `expected ${entry.checksum}, found ${found}` });
      continue;
    }
    try {
      decodeValue(bytes, version.value, `${category}/${entry.key}`);
    } catch (error) {
      report.problems.push({ problem: 'undecodable', key: entry.key, file: entry.file, detail: (error as Error).message });
      continue;
    }
    sound.set(entry.key, entry);
  }

  const described = new Set<string>();
  const adopted: IndexEntry[] = [];
  const names = await files.list(category);
  for (const name of names) {
    const kind = nameKind(name);
    if (kind === 'temp') {
      const stat = await files.stat(path(name));
      if (stat && (files.writerGone?.(path(name)) || Date.now() - stat.mtimeMs > TEMP_GRACE_MS)) report.problems.push({ problem: 'temp_file', file: name });
    } else if (kind === 'data' && !byFile.has(name) && index.getPending(parseDataFileName(name)?.key ?? '')?.file !== name) {
      report.problems.push({ problem: 'orphan_file', file: name });
      const entry = repair ? await adopt(ctx, name) : undefined;
      if (entry && !sound.has(entry.key)) {
        adopted.push(entry);
        sound.set(entry.key, entry);
        byFile.set(entry.file, entry);
      }
    }
  }
  // Sidecars last, so that those of adopted files are seen as theirs.
  for (const name of names.filter((n) => nameKind(n) === 'sidecar')) {
    const target = byFile.get(sidecarTarget(name)!);
    const bytes = target && sound.get(target.key) === target ? await files.read(path(name)) : undefined;
    if (bytes && readSidecar(bytes, target!.checksum) && entryNeedsSidecar(target!)) described.add(target!.file);
    else if (!(target && index.getPending(target.key))) report.problems.push({ problem: 'stale_description', file: name });
  }
  for (const entry of sound.values()) {
    if (!described.has(entry.file) && entryNeedsSidecar(entry)) {
      report.problems.push({ problem: 'missing_description', key: entry.key, file: entry.file });
    }
  }
  if (!repair || report.problems.length === 0) return report;

  for (const finding of report.problems) {
    const keep = finding.problem === 'index_unreadable' || finding.problem === 'missing_description'
      || (finding.problem === 'orphan_file' && adopted.some((e) => e.file === finding.file));
    if (finding.file && !keep && await files.remove(path(finding.file))) report.actions.push(`removed ${finding.file}`);
  }
  for (const entry of adopted) report.actions.push(`adopted ${entry.key}`);
  for (const entry of sound.values()) {
    if (described.has(entry.file) || !entryNeedsSidecar(entry)) continue;
    await files.writeAtomic(path(sidecarName(entry.file)), sidecarBytes(entry.checksum, describedBy(entry)));
    report.actions.push(`described ${entry.file}`);
  }
  await index.replaceAll(sound);
  report.actions.push('rebuilt index.json');
  report.repaired = true;
  return report;
}

/** An index entry for a sound data file that no entry points to (e.g. after index.json was lost). */
async function adopt(ctx: Context, name: string): Promise<IndexEntry | undefined> {
  const parsed = parseDataFileName(name);
  if (parsed === undefined || !KEY_PATTERN.test(parsed.key)) return undefined;
  const bytes = await ctx.files.read(`${ctx.category}/${name}`);
  if (bytes === undefined) return undefined;
  const checksum = ctx.entryChecksum(bytes);
  const sidecar = await ctx.files.read(`${ctx.category}/${sidecarName(name)}`);
  const description = describeStoredFile(bytes, parsed.ext, ctx.spec, sidecar && readSidecar(sidecar, checksum));
  if (description === undefined) return undefined;
  const stat = await ctx.files.stat(`${ctx.category}/${name}`);
  const when = stat ? new Date(stat.mtimeMs).toISOString() : nowIso();
  return {
    key: parsed.key, created_at: when, size_bytes: bytes.length, access_count: 0, last_accessed: when,
    checksum, file: name, value: description.value, ...(description.metadata ? { metadata: description.metadata } : {}),
  };
}
