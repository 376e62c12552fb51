// Command-line parsing on util.parseArgs: the global options may come before or after the command.

import { parseArgs } from 'node:util';
import type { Command, OptionSpec } from './command.js';
import { usageError } from './errors.js';

/** Options every command takes. */
export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = Object.freeze({
  root: { type: 'string', value: 'dir', description: 'the cache root (default: $DASE_CACHE_DIR, else ./cache)' },
  json: { type: 'boolean', description: 'print machine-readable JSON instead of tables' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
});

/** Global options before the command that take a value: their value is not the command. */
const VALUED_GLOBALS = new Set(Object.entries(GLOBAL_OPTIONS).filter(([, o]) => o.type === 'string').map(([name]) => `--${name}`));

/**
 * Finds the command word: the first argument that is neither an option nor the value of one.
 * @returns the command (undefined when there is none) and the arguments without it.
 */
export function splitCommand(argv: readonly string[]): { command: string | undefined; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') break;
    if (VALUED_GLOBALS.has(arg)) { i++; continue; }
    if (!arg.startsWith('-')) return { command: arg, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { command: undefined, rest: [...argv] };
}

export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Parses a command's arguments strictly: an unknown option, a missing value or too many arguments is a
 * usage error (exit 2) that names the command's help.
 * @throws {CliError}
 */
export function parseCommandArgs(command: Command, argv: readonly string[]): ParsedArgs {
  const specs = { ...GLOBAL_OPTIONS, ...command.options };
  const options = Object.fromEntries(Object.entries(specs).map(([name, o]) => [name, { type: o.type, ...(o.short ? { short: o.short } : {}) }]));
  const help = `run "dase-cache ${command.name} --help" for its usage`;
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true }) as ParsedArgs;
  } catch (error) {
    // parseArgs' messages are long and end with advice about "--"; keep their first sentence.
    const first = (error as Error).message.split('. ')[0].replace(/\.$/, '');
    throw usageError(`${command.name}: ${first}; ${help}`);
  }
  if (parsed.values.help) return parsed;
  const { min, max } = command.positionals;
  if (parsed.positionals.length < min) {
    throw usageError(`${command.name}: expected ${command.usage}, got too few arguments; ${help}`);
  }
  if (parsed.positionals.length > max) {
    throw usageError(`${command.name}: unexpected argument ${JSON.stringify(parsed.positionals[max])}; ${help}`);
  }
  return parsed;
}
