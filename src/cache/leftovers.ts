// Files a save or delete replaced but could not remove at once (an I/O error on unlink): removed at a later
// checkpoint, and journalled meanwhile so that any process's checkpoint tries again (repair finds them too).

import type { CategoryIndex } from './category-index.js';
import type { Files } from './files.js';
import { parseDataFileName, sidecarTarget } from './layout.js';
import { entryNeedsSidecar } from './self-description.js';

/**
 * Removes files that no entry needs any more (call under the category's lock): `names`, and those an earlier
 * attempt could not remove; a file that is live again (a later save of the same key and kind) stays.
 */
export async function removeLeftovers(files: Files, category: string, index: CategoryIndex, names: string[]): Promise<void> {
  if (index.leftovers.size === 0 && names.length === 0) return;
  await index.refresh(); // the journal's own last lines (commit, del) say which files are still live
  const failed: string[] = [];
  for (const name of new Set([...index.leftovers, ...names])) {
    const target = sidecarTarget(name);
    const file = target ?? name;
    const key = parseDataFileName(file)?.key;
    // Under the lock a put without commit is this save's own, already in place (compaction settled any other).
    const live = key === undefined ? undefined : index.getPending(key) ?? index.get(key);
    const removed = live?.file === file && (target === undefined || entryNeedsSidecar(live))
      || await files.remove(`${category}/${name}`).then(() => true, () => false);
    if (removed) index.leftovers.delete(name);
    else if (!index.leftovers.has(name)) failed.push(name);
  }
  if (failed.length > 0) await index.append({ op: 'leftover', files: failed }).catch(() => undefined);
}
