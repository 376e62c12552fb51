// dase-cache warmup [--config file.json]: fills the cache with the kernels simulations ask for.

import type { Command, CommandContext } from '../command.js';
import { problemError, usageError } from '../errors.js';
import { formatBytes, formatMs, plural } from '../format.js';
import { progressBar } from '../progress.js';
import { DEFAULT_CONFIG, expandConfig, readConfig } from '../warmup/config.js';
import { planItems, warmupKernels, type WarmupItem } from '../warmup/items.js';
import { chooseJobs, runItems } from '../warmup/pool.js';
import type { ItemResult } from '../warmup/runner.js';

const CONFIG_HELP = `Config file (JSON): each section is a list of groups; each field of a group is a value or a list of values, and a group stands for every combination of them.
  {
    "fractional_kernels": [{ "alpha": [0.5, 0.75], "dt": 0.001, "n": [1001, 10001] }],
    "gl_weights":         [{ "alpha": 0.5, "n": 100000 }],
    "laplacians":         [{ "shape": [[64, 64], [32, 32, 32]], "boundary": ["dirichlet", "periodic"],
                             "accuracy": 2, "spacing": 0.01 }],
    "fd_coefficients":    [{ "derivative": [1, 2], "accuracy": [2, 4], "kind": "center" }]
  }
  fractional_kernels  fractionalKernel(alpha, dt, n) -> fractional_kernels/kernel_<alpha>_<dt>_<n>
  gl_weights          glWeights(alpha, n) -> fractional_kernels/gl_<alpha>_<n>
  laplacians          laplacian(shape, { boundary, accuracy, spacing }) -> stencils/laplacian_<d>d_<sizes>_<boundary>...
                      shape: one shape or a list of shapes; boundary default "dirichlet", accuracy default 2;
                      spacing (default 1) is not expanded: a number, or a list of one number per axis
  fd_coefficients     fdCoefficients(derivative, accuracy, kind) -> stencils/fd_d<derivative>_acc<accuracy>_<kind>
Default set (without --config):
${Object.entries(DEFAULT_CONFIG).map(([section, groups]) => `  "${section}": ${JSON.stringify(groups)}`).join('\n')}`;

function printDryRun(root: string, items: WarmupItem[], stored: boolean[], json: boolean,
  print: CommandContext['print'], printJson: CommandContext['printJson']): void {
  const listed = items.map((item, i) => ({ category: item.category, key: item.key, stored: stored[i], estimated_bytes: item.estimatedBytes }));
  if (json) {
    printJson({ root, items: listed });
    return;
  }
  for (const item of listed) print(`${item.stored ? 'stored ' : 'missing'}  ${item.category}/${item.key}  ~${formatBytes(item.estimated_bytes)}`);
  print(`${plural(items.length, 'entry', 'entries')}, ${stored.filter(Boolean).length} stored`);
}

/** `warmup [--config file.json] [--jobs n] [--dry-run]`. */
export const warmup: Command = {
  name: 'warmup',
  summary: 'fill the cache with the kernels simulations need (a default set, or a config file)',
  usage: '[--config <file.json>] [--jobs <n>] [--dry-run]',
  description: 'Computes and stores the kernels a simulation asks for, through the memoized kernels of '
    + 'cachedKernels(cache, { policy: "always" }), so the keys are the ones simulations look up: the default set '
    + '(GL kernels for alpha 0.25, 0.5, 0.75, 0.9, 1.5 x dt 0.01, 0.001 x n 1000, 10000, and the 2-D 64², 128², '
    + '256² and 3-D 32³, 64³ Laplacians with each boundary, about 90 MiB) or the list in --config. Entries '
    + 'already stored by this library version and WASM build are verified and kept, not computed again. When more than '
    + '128 MiB is to be computed, the work is shared over worker threads (one per core, at most 4); --jobs sets '
    + 'the number (1: no workers). A progress bar shows on a terminal, one line per entry otherwise. Exit 1 '
    + 'when an entry could not be made, 2 for a bad config.\n\n' + CONFIG_HELP,
  positionals: { min: 0, max: 0 },
  options: {
    config: { type: 'string', value: 'file.json', description: 'the kernels to make (default: the default set)' },
    jobs: { type: 'string', value: 'n', description: 'threads to compute on (default: by the amount of work)' },
    'dry-run': { type: 'boolean', description: 'list the entries and whether they are stored; make nothing' },
  },
  examples: [
    ['dase-cache warmup', 'the default set of GL kernels and Laplacians'],
    ['dase-cache warmup --config sim-kernels.json --root /scratch/cache', 'the kernels a config lists, into another cache'],
    ['dase-cache warmup --dry-run --json | jq -r \'.items[] | select(.stored | not) | .key\'', 'what is still missing'],
  ],
  json: '{ "root", "jobs": number, "ms": number, "computed": number, "cached": number, "failed": number, "items": [{ "category", '
    + '"key", "source": "computed"|"cached"|"failed", "size_bytes": number|null, "ms", "error": string|null }] }; '
    + 'with --dry-run: { "root", "items": [{ "category", "key", "stored": boolean, "estimated_bytes" }] }',
  async run({ root, json, values, print, printJson, openCache }) {
    let jobs: number | undefined;
    if (values.jobs !== undefined) {
      jobs = Number(values.jobs);
      if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) throw usageError(`--jobs: expected an integer from 1 to 64, got ${JSON.stringify(values.jobs)}`);
    }
    const calls = values.config === undefined ? expandConfig(DEFAULT_CONFIG, '(default)') : readConfig(values.config as string);
    const cache = await openCache({ create: true, remote: 'environment' });
    const items = planItems(warmupKernels(cache), calls);
    const stored = await Promise.all(items.map((item) => cache.exists(item.category, item.key)));
    if (values['dry-run']) {
      printDryRun(root, items, stored, json, print, printJson);
      return 0;
    }
    const threads = chooseJobs(jobs, items, stored);
    const bar = progressBar('warmup');
    const started = performance.now();
    // The bar is drawn on stderr; a line per entry goes to stdout unless both are the terminal.
    const lines = !json && !(process.stdout.isTTY && process.stderr.isTTY);
    const width = Math.max(...items.map((item) => item.category.length + 1 + item.key.length));
    let finished = 0;
    const onResult = (r: ItemResult) => {
      finished++;
      bar.update(finished, items.length, `${r.category}/${r.key}`);
      if (!lines) return;
      const size = r.size_bytes === null ? '' : formatBytes(r.size_bytes);
      print(`${r.source.padEnd(8)}  ${`${r.category}/${r.key}`.padEnd(width)}  ${size.padStart(8)}  ${formatMs(r.ms).padStart(8)}${r.error ? `  ${r.error}` : ''}`);
    };
    const results = await runItems(cache, root, items, threads, onResult);
    bar.finish();
    const ms = performance.now() - started;
    const count = (source: ItemResult['source']) => results.filter((r) => r.source === source).length;
    const failed = results.filter((r) => r.source === 'failed');
    if (json) {
      printJson({ root, jobs: threads, ms: Math.round(ms), computed: count('computed'), cached: count('cached'), failed: failed.length,
        items: results.map(({ index: _index, ...r }) => ({ ...r, ms: Math.round(r.ms * 1000) / 1000 })) });
    } else {
      const bytes = results.reduce((n, r) => n + (r.size_bytes ?? 0), 0);
      print(`warmup: ${plural(results.length, 'entry', 'entries')} (${formatBytes(bytes)}): ${count('computed')} computed, `
        + `${count('cached')} already cached${failed.length ? `, ${failed.length} failed` : ''}, in ${formatMs(ms)} `
        + `${threads > 1 ? `on ${threads} worker threads` : 'in one thread'}; cache: ${root}`);
    }
    if (failed.length > 0) {
      throw problemError(`warmup: ${plural(failed.length, 'entry', 'entries')} could not be made (first: ${failed[0].category}/${failed[0].key}: `
        + `${failed[0].error}); fix the cause and run warmup again: what was made is kept`);
    }
    return 0;
  },
};
