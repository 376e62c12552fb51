// validate(): every index entry against its file and checksum, every file against the index; with
// repair, damaged entries and leftover temporary files go and the index is rebuilt from sound files.

import type { CategorySpec } from './categories.js';
import { CategoryIndex, INDEX_FILE, nowIso, type IndexEntry } from './category-index.js';
import { TEMP_PREFIX, type Files } from './files.js';
import { KEY_PATTERN } from './keys.js';
import { describeStoredFile, decodeValue } from './values.js';

export type Problem =
  | 'index_unreadable'      // index.json is not valid JSON of the expected shape
  | 'missing_file'          // an entry whose file is gone
  | 'checksum_mismatch'     // an entry whose file does not hash to its checksum
  | 'undecodable'           // the file hashes right but cannot be read back
  | 'orphan_file'           // a data file no entry points to
  | 'temp_file';            // a temporary file left by a writer that was killed

export interface Finding { problem: Problem; key?: string; file?: string; detail?: string }

export interface CategoryReport {
  entries: number;
  problems: Finding[];
  /** What repair did: 'removed <file>', 'adopted <key>', 'rebuilt index.json'. */
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

// A temporary file younger than this may belong to a save in progress in another process.
const TEMP_GRACE_MS = 60_000;

export async function validateCategory(ctx: Context): Promise<CategoryReport> {
  const { files, index, category, entryChecksum, repair } = ctx;
  const check = async (): Promise<CategoryReport> => {
    await index.refresh();
    const report: CategoryReport = { entries: index.all().length, problems: [], actions: [], repaired: false };
    if (index.damaged) report.problems.push({ problem: 'index_unreadable', file: INDEX_FILE });
    const sound = new Map<string, IndexEntry>();
    const referenced = new Set<string>();
    for (const entry of index.all()) {
      ctx.onEntryChecked?.();
      referenced.add(entry.file);
      const bytes = await files.read(`${category}/${entry.file}`);
      if (bytes === undefined) {
        report.problems.push({ problem: 'missing_file', key: entry.key, file: entry.file });
        continue;
      }
      const found = entryChecksum(bytes);
      if (found !== entry.checksum) {
        report.problems.push({ problem: 'checksum_mismatch', key: entry.key, file: entry.file, detail: `expected ${entry.checksum}, found ${found}` });
        continue;
      }
      try {
        decodeValue(bytes, entry.value, `${category}/${entry.key}`);
      } catch (error) {
        report.problems.push({ problem: 'undecodable', key: entry.key, file: entry.file, detail: (error as Error).message });
        continue;
      }
      sound.set(entry.key, entry);
    }
    const adoptable: IndexEntry[] = [];
    for (const name of await files.list(category)) {
      if (name === INDEX_FILE || name.startsWith('.journal-') || name.startsWith('.lock') || name.startsWith(`${INDEX_FILE}.damaged-`)) continue;
      if (name.startsWith(TEMP_PREFIX)) {
        const stat = await files.stat(`${category}/${name}`);
        if (stat && Date.now() - stat.mtimeMs > TEMP_GRACE_MS) report.problems.push({ problem: 'temp_file', file: name });
        continue;
      }
      if (referenced.has(name)) continue;
      // A pending put's file is not an orphan: its commit may still come.
      if (index.getPending(name.slice(0, name.lastIndexOf('.')))?.file === name) continue;
      report.problems.push({ problem: 'orphan_file', file: name });
      if (repair) {
        const adopted = await adopt(ctx, name);
        if (adopted) adoptable.push(adopted);
      }
    }
    if (repair && report.problems.length > 0) {
      for (const finding of report.problems) {
        const adoptedHere = finding.problem === 'orphan_file' && adoptable.some((e) => e.file === finding.file);
        if (finding.file && finding.problem !== 'index_unreadable' && !adoptedHere) {
          if (await files.remove(`${category}/${finding.file}`)) report.actions.push(`removed ${finding.file}`);
        }
      }
      for (const entry of adoptable) {
        if (!sound.has(entry.key)) {
          sound.set(entry.key, entry);
          report.actions.push(`adopted ${entry.key}`);
        }
      }
      await index.replaceAll(sound);
      report.actions.push('rebuilt index.json');
      report.repaired = true;
    }
    return report;
  };
  return repair ? index.locked(check) : check();
}

/** An index entry for a sound data file that no entry points to (e.g. after index.json was lost). */
async function adopt(ctx: Context, name: string): Promise<IndexEntry | undefined> {
  const dot = name.lastIndexOf('.');
  const key = name.slice(0, dot);
  if (dot <= 0 || !KEY_PATTERN.test(key)) return undefined;
  const bytes = await ctx.files.read(`${ctx.category}/${name}`);
  if (bytes === undefined) return undefined;
  const description = describeStoredFile(bytes, name.slice(dot + 1), ctx.spec);
  if (description === undefined) return undefined;
  const stat = await ctx.files.stat(`${ctx.category}/${name}`);
  const when = stat ? new Date(stat.mtimeMs).toISOString() : nowIso();
  return {
    key, created_at: when, size_bytes: bytes.length, access_count: 0, last_accessed: when,
    checksum: ctx.entryChecksum(bytes), file: name, value: description,
  };
}
