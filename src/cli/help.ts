// --help text: the command list, and each command's usage, options, examples and JSON output.

import { GLOBAL_OPTIONS } from './args.js';
import type { Command, OptionSpec } from './command.js';

/** Wraps a paragraph at `width` columns, keeping lines that are already laid out (indented) as they are. */
function wrap(text: string, width = 100): string[] {
  const out: string[] = [];
  for (const paragraph of text.split('\n')) {
    if (paragraph.startsWith(' ') || paragraph.length <= width) { out.push(paragraph); continue; }
    let line = '';
    for (const word of paragraph.split(' ')) {
      if (line && line.length + 1 + word.length > width) { out.push(line); line = word; } else line = line ? `${line} ${word}` : word;
    }
    out.push(line);
  }
  return out;
}

function optionLines(options: Record<string, OptionSpec>): string[] {
  const rows = Object.entries(options).map(([name, o]) => [`${o.short ? `-${o.short}, ` : '    '}--${name}${o.value ? ` <${o.value}>` : ''}`, o.description]);
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return rows.map(([flag, description]) => `  ${flag.padEnd(width)}  ${description}`);
}

function exampleLines(examples: [string, string][]): string[] {
  return examples.flatMap(([line, what]) => [`  $ ${line}`, `      ${what}`]);
}

/** The help of the whole tool: what it is, its commands, the global options, exit codes. */
export function mainHelp(commands: Command[], version: string): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `dase-cache ${version}: look into and manage a dase-cache folder (fractional kernels, stencils, ...)`,
    '',
    'Usage: dase-cache <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options of every command:',
    ...optionLines({ ...GLOBAL_OPTIONS, version: { type: 'boolean', short: 'v', description: 'print the version' } }),
    '',
    'Examples:',
    ...exampleLines([
      ['dase-cache ls', 'what the cache in ./cache holds'],
      ['dase-cache stats --root /data/cache --json', 'sizes and accesses per category, as JSON'],
      ['dase-cache warmup && dase-cache ls stencils', 'fill the cache with common kernels, then list the stencils'],
      ['dase-cache gc --max-size 500M', 'evict entries until the cache fits in 500 MiB'],
    ]),
    '',
    'Exit codes: 0 ok, 1 a problem was found (damage, a missing key, a failed kernel), 2 a usage error.',
    'Run "dase-cache <command> --help" for a command\'s options, examples and JSON output.',
  ].join('\n');
}

/** The help of one command. */
export function commandHelp(command: Command): string {
  return [
    `Usage: dase-cache ${command.name}${command.usage ? ` ${command.usage}` : ''} [options]`,
    '',
    ...wrap(command.description),
    '',
    'Options:',
    ...optionLines({ ...command.options, ...GLOBAL_OPTIONS }),
    '',
    'Examples:',
    ...exampleLines(command.examples),
    '',
    'JSON output (--json):',
    ...wrap(`  ${command.json}`, 1000),
  ].join('\n');
}
