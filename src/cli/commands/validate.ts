// dase-cache validate [--repair]: every entry against its file and checksum, every file against the index.

import type { Command } from '../command.js';
import { problemError } from '../errors.js';
import { formatMs, plural, table } from '../format.js';
import { progressBar } from '../progress.js';

/** `validate [--repair]`. */
export const validate: Command = {
  name: 'validate',
  summary: 'check every entry against its file and checksum; --repair fixes what it finds',
  usage: '[--repair]',
  description: 'Checks every entry of every category against its file and SHA-256 checksum, every file against '
    + 'the index, each index.json, and temporary files left by killed writers. With --repair, removes damaged '
    + 'entries and leftovers and rebuilds each index from the sound files. Exit 1 when it found damage and did '
    + 'not repair it. A progress bar shows on a terminal when it takes more than a moment.',
  positionals: { min: 0, max: 0 },
  options: {
    repair: { type: 'boolean', description: 'quarantine damaged files, remove leftovers, adopt lost files, rebuild the indexes' },
  },
  examples: [
    ['dase-cache validate', 'check the cache; exit 1 if anything is damaged'],
    ['dase-cache validate --repair', 'check and repair'],
    ['dase-cache validate --json | jq \'.categories[].problems[]\'', 'the problems, for a script'],
  ],
  json: 'the ValidationReport of CacheManager.validate: { "ok": boolean, "repaired": boolean, "categories": { "<category>": '
    + '{ "entries", "problems": [{ "problem", "key"?, "file"?, "detail"? }], "actions": string[], "repaired" } }, '
    + '"timings": { "<category>": ms } }',
  async run({ root, json, values, print, printJson, openCache }) {
    const cache = await openCache();
    const repair = values.repair === true;
    const bar = progressBar(repair ? 'validate --repair' : 'validate', { delayMs: 300 });
    const started = Date.now();
    const report = await cache.validate({ repair, onProgress: (done, total) => bar.update(done, total, 'entries') });
    bar.finish();
    const problemCount = Object.values(report.categories).reduce((n, c) => n + c.problems.length, 0);
    const damage = () => problemError(`validate: ${plural(problemCount, 'problem')} found; run "dase-cache validate --repair" `
      + 'to do what each line says (damaged files are moved to .quarantine/, never deleted) and rebuild the indexes');
    if (json) {
      printJson(report);
      if (!report.ok) throw damage();
      return 0;
    }
    const categories = Object.entries(report.categories);
    const right = 'right' as const;
    for (const line of table([{ title: 'CATEGORY' }, { title: 'ENTRIES', align: right }, { title: 'PROBLEMS', align: right }, { title: 'REPAIRED' }],
      categories.map(([name, c]) => [name, String(c.entries), String(c.problems.length), c.problems.length === 0 ? '' : c.repaired ? 'yes' : 'no']))) print(line);
    const problems = categories.flatMap(([name, c]) => c.problems.map((p) => `${name}: ${p.problem}${p.key ? ` ${p.key}` : ''}`
      + `${p.file ? ` (${p.file})` : ''}${p.detail ? `: ${p.detail}` : ''}${p.repair && !report.repaired ? `; --repair will ${p.repair}` : ''}`));
    const kept = categories.flatMap(([name, c]) => c.kept.map((k) => `${name}: left as it is: ${k.file} (${k.reason}${k.detail ? `: ${k.detail}` : ''})`));
    const actions = categories.flatMap(([name, c]) => c.actions.map((a) => `${name}: ${a}`));
    if (problems.length > 0) {
      print();
      for (const line of problems) print(line);
    }
    if (actions.length > 0) {
      print();
      for (const line of actions) print(line);
    }
    if (kept.length > 0) {
      print();
      for (const line of kept) print(line);
    }
    const quarantined = categories.reduce((n, [, c]) => n + c.quarantined.length, 0);
    if (quarantined > 0) {
      print();
      print(`${plural(quarantined, 'damaged file')} set aside in ${root}/.quarantine/ (dase-cache clear --quarantine deletes them)`);
    }
    print();
    const entries = categories.reduce((n, [, c]) => n + c.entries, 0);
    const checked = `checked ${plural(entries, 'entry', 'entries')} in ${formatMs(Date.now() - started)}`;
    if (problems.length === 0) print(`${checked}: no problems`);
    else if (report.ok) print(`${checked}: ${plural(problems.length, 'problem')} found and repaired`);
    else print(`${checked}: ${plural(problems.length, 'problem')} found`);
    if (!report.ok) throw damage();
    return 0;
  },
};
