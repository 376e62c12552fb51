// validate(): every index entry against its file and checksum, every file against the index; with repair,
// interrupted saves are settled as compaction settles them, damaged files are moved to a quarantine folder
// (never deleted), the cache's own leftovers go, files that lost their entry are adopted with the
// description they carry, files that are not ours are left alone, and index.json is rebuilt.

import type { CategorySpec } from './categories.js';
import type { CategoryIndex, IndexEntry } from './category-index.js';
import { nowIso } from './category-index.js';
import type { Files } from './files.js';
import { KEY_PATTERN } from './keys.js';
import { INDEX_FILE, QUARANTINE_DIR, nameKind, parseDataFileName, sidecarName, sidecarTarget } from './layout.js';
import { describedBy, entryNeedsSidecar, readSidecar, sidecarBytes } from './self-description.js';
import { companionName } from './python-entries.js';
import { decodeValue, describeStoredFile, entryDescription } from './values.js';

/**
 * What validate found wrong (each finding's `problem`): `'index_unreadable'`, `'missing_file'`,
 * `'checksum_mismatch'`, `'undecodable'`, `'orphan_file'`, `'temp_file'`, `'stale_description'` or
 * `'missing_description'`, as the comments beside them say.
 */
export type Problem =
  | 'index_unreadable'      // index.json is not valid JSON of the expected shape
  | 'missing_file'          // an entry whose file is gone
  | 'checksum_mismatch'     // an entry whose file does not hash to its checksum
  | 'undecodable'           // the file hashes right but cannot be read back
  | 'orphan_file'           // a data file no entry points to
  | 'temp_file'             // a temporary file left by a writer that was killed
  | 'stale_description'     // a sidecar that describes no entry's file as it is
  | 'missing_description';  // an entry whose file needs a sidecar to describe itself, and has none

/** What repair does about a finding (and what plain validate says it would do). */
export type RepairAction = 'adopt' | 'quarantine' | 'remove' | 'drop entry' | 'describe' | 'rebuild index';

/** One problem validate found in a category, and what repair does (or did) about it. */
export interface Finding {
  /** What is wrong. */
  problem: Problem;
  /** The entry's key, when the problem is about an entry. */
  key?: string;
  /** The file's name in the category folder, when the problem is about a file. */
  file?: string;
  /** More about it, for people (e.g. the checksums that differ). */
  detail?: string;
  /** What repair does about it. */
  repair?: RepairAction;
}

/** Something validate found and repair leaves as it is: a file that is intact but not ours, or not understood. */
export interface Kept {
  /**
   * Why it is left alone: a file that is not a value this cache can read under a valid key (`'foreign_file'`);
   * an entry whose file is intact but cannot be read back, e.g. written by a newer version (`'undecodable'`);
   * an entry written without a checksum, by the Python cache, so not verifiable (`'unverified'`); an index.json
   * entry whose key would name a path outside the category folder, never read (`'unsafe_key'`).
   */
  reason: 'foreign_file' | 'undecodable' | 'unverified' | 'unsafe_key';
  /** The entry's key, when it has one. */
  key?: string;
  /** The file's name in the category folder. */
  file?: string;
  /** More about it, for people. */
  detail?: string;
}

/** What validate found in one category (and, with repair, what it did). */
export interface CategoryReport {
  /** Index entries checked. */
  entries: number;
  /** What is wrong; with repair, each finding says what was done about it. */
  problems: Finding[];
  /** Files repair leaves alone: intact but not ours or not understood (never deleted). */
  kept: Kept[];
  /** Damaged files set aside in `<root>/.quarantine/<category>/` (by this repair or earlier ones). */
  quarantined: string[];
  /** What repair did: 'removed <file>', 'adopted <key>', 'described <file>', 'rebuilt index.json'. */
  actions: string[];
  /** Whether repair rewrote this category (false without repair, and when it found nothing to repair). */
  repaired: boolean;
}

interface Context {
  files: Files;
  index: CategoryIndex;
  category: string;
  spec: CategorySpec;
  /** The index's checksum field for the bytes ('sha256:<hex>'). */
  entryChecksum: (bytes: Uint8Array) => string;
  /** Whether an entry's file holds exactly the bytes its checksum names. */
  fileHolds: (entry: IndexEntry) => Promise<boolean>;
  repair: boolean;
  /** Called as each index entry is taken up for checking (for progress reports). */
  onEntryChecked?: () => void;
}

// A temporary file younger than this may belong to a save in progress in another process (on this host,
// a writer's pid in the name tells at once).
const TEMP_GRACE_MS = 60_000;


export async function validateCategory(ctx: Context): Promise<CategoryReport> {
  const { index, repair } = ctx;
  const report = await (repair ? index.locked(() => check(ctx)) : check(ctx));
  report.quarantined = (await ctx.files.list(`${QUARANTINE_DIR}/${ctx.category}`)).sort();
  return report;
}

async function check(ctx: Context): Promise<CategoryReport> {
  const { files, index, category, entryChecksum, repair } = ctx;
  const path = (name: string) => `${category}/${name}`;
  await index.refresh();
  // Under the lock no save is in progress: a put without its commit is a writer that died.
  if (repair) await index.settlePending(ctx.fileHolds);
  const report: CategoryReport = { entries: index.all().length, problems: [], kept: [], quarantined: [], actions: [], repaired: false };
  if (index.damaged) report.problems.push({ problem: 'index_unreadable', file: INDEX_FILE, repair: 'rebuild index' });
  for (const key of index.unsafe.keys()) report.kept.push({ reason: 'unsafe_key', key, detail: 'an index.json entry whose key would name a path outside the category folder: never read' });

  const sound = new Map<string, IndexEntry>();
  const byFile = new Map<string, IndexEntry>();
  for (const entry of index.all()) {
    ctx.onEntryChecked?.();
    byFile.set(entry.file, entry);
    const bytes = await files.read(path(entry.file));
    if (bytes === undefined) {
      report.problems.push({ problem: 'missing_file', key: entry.key, file: entry.file, repair: 'drop entry' });
      continue;
    }
    const found = entryChecksum(bytes);
    // Without the lock a save may be in progress: its file holds either version. An entry written with
    // checksums turned off (by the Python cache) cannot be checked: it is reported as unverified.
    const version = found === entry.checksum || entry.checksum === null ? entry : index.getPending(entry.key);
    if (entry.checksum === null) report.kept.push({ reason: 'unverified', key: entry.key, file: entry.file, detail: 'written without a checksum' });
    else if (version?.checksum !== found) {
      report.problems.push({ problem: 'checksum_mismatch', key: entry.key, file: entry.file, detail: `expected ${entry.checksum}, found ${found}`, repair: 'quarantine' });
      continue;
    }
    try {
      decodeValue(bytes, entryDescription(version!, bytes, ctx.spec) ?? {}, `${category}/${entry.key}`);
    } catch (error) {
      // Intact (its checksum matches) but not understood, e.g. written by a newer version: left as it is.
      report.kept.push({ reason: 'undecodable', key: entry.key, file: entry.file, detail: (error as Error).message });
    }
    sound.set(entry.key, entry);
  }

  const described = new Set<string>();
  const adopted: IndexEntry[] = [];
  const names = await files.list(category);
  // The Python cache's metadata companions belong to their entries' files.
  for (const entry of index.all()) {
    const companion = companionName(entry.file);
    if (companion !== undefined && names.includes(companion)) byFile.set(companion, entry);
  }
  for (const name of names) {
    const kind = nameKind(name);
    if (kind === 'temp') {
      const stat = await files.stat(path(name));
      if (stat && (files.writerGone?.(path(name)) || Date.now() - stat.mtimeMs > TEMP_GRACE_MS)) report.problems.push({ problem: 'temp_file', file: name, repair: 'remove' });
    } else if (kind === 'data' && !byFile.has(name) && index.getPending(parseDataFileName(name)?.key ?? '')?.file !== name) {
      // Adopted if it can be read back as a value under a key; otherwise not ours to touch.
      const entry = await adopt(ctx, name);
      if (entry && !sound.has(entry.key)) {
        report.problems.push({ problem: 'orphan_file', key: entry.key, file: name, repair: 'adopt' });
        adopted.push(entry);
        sound.set(entry.key, entry);
        byFile.set(entry.file, entry);
      } else if (entry) {
        // A version a save replaced, left by a writer that died before removing it: kept aside, not deleted.
        report.problems.push({ problem: 'orphan_file', key: entry.key, file: name, detail: `superseded: the key is held by ${sound.get(entry.key)!.file}`, repair: 'quarantine' });
      } else {
        report.kept.push({ reason: 'foreign_file', file: name, detail: 'not a value this cache can read under a valid key' });
      }
    }
  }
  // Sidecars last, so that those of adopted files are seen as theirs.
  for (const name of names.filter((n) => nameKind(n) === 'sidecar')) {
    const target = byFile.get(sidecarTarget(name)!);
    const bytes = target && sound.get(target.key) === target ? await files.read(path(name)) : undefined;
    if (bytes && target!.checksum !== null && readSidecar(bytes, target!.checksum) && entryNeedsSidecar(target!)) described.add(target!.file);
    else if (!(target && index.getPending(target.key))) report.problems.push({ problem: 'stale_description', file: name, repair: 'remove' });
  }
  for (const entry of sound.values()) {
    if (!described.has(entry.file) && entryNeedsSidecar(entry)) {
      report.problems.push({ problem: 'missing_description', key: entry.key, file: entry.file, repair: 'describe' });
    }
  }
  if (!repair || report.problems.length === 0) return report;

  for (const finding of report.problems) {
    if (!finding.file) continue;
    if (finding.repair === 'remove' && await files.remove(path(finding.file))) report.actions.push(`removed ${finding.file}`);
    if (finding.repair === 'quarantine') report.actions.push(`quarantined ${finding.file} as ${await quarantine(ctx, finding.file)}`);
  }
  for (const entry of adopted) report.actions.push(`adopted ${entry.key}`);
  for (const entry of sound.values()) {
    if (described.has(entry.file) || !entryNeedsSidecar(entry)) continue;
    // Only this cache's own entries need sidecars, and those always have a checksum.
    await files.writeAtomic(path(sidecarName(entry.file)), sidecarBytes(entry.checksum!, describedBy(entry)));
    report.actions.push(`described ${entry.file}`);
  }
  await index.replaceAll(sound);
  report.actions.push('rebuilt index.json');
  report.repaired = true;
  return report;
}

/**
 * Moves a damaged file to `<root>/.quarantine/<category>/`, under a name that says when, so that what a user
 * may still want is never deleted by repair (only `dase-cache clear --quarantine` empties the folder).
 * @returns its path relative to the root.
 */
async function quarantine(ctx: Context, file: string): Promise<string> {
  const bytes = await ctx.files.read(`${ctx.category}/${file}`);
  const target = `${QUARANTINE_DIR}/${ctx.category}/${nowIso().replace(/[:.]/g, '-')}-${file}`;
  if (bytes !== undefined) {
    await ctx.files.makeDir(`${QUARANTINE_DIR}/${ctx.category}`);
    await ctx.files.writeAtomic(target, bytes);
    await ctx.files.remove(`${ctx.category}/${file}`);
  }
  return target;
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
