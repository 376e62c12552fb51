#!/usr/bin/env node
// The dase-cache command line: finds the command, parses its options, runs it, and turns what went
// wrong into one line on stderr and an exit code (0 ok, 1 a problem found, 2 a usage error).

import { readFileSync } from 'node:fs';
import { CacheError, type CacheManager } from '../node.js';
import { parseCommandArgs, splitCommand } from './args.js';
import type { Command, CommandContext } from './command.js';
import { clear } from './commands/clear.js';
import { convert } from './commands/convert.js';
import { gc } from './commands/gc.js';
import { info } from './commands/info.js';
import { ls } from './commands/ls.js';
import { remote } from './commands/remote.js';
import { stats } from './commands/stats.js';
import { validate } from './commands/validate.js';
import { warmup } from './commands/warmup.js';
import { openCache, resolveRoot } from './context.js';
import { CliError, EXIT, usageError } from './errors.js';
import { commandHelp, mainHelp } from './help.js';

const COMMANDS: Command[] = [ls, stats, info, clear, warmup, validate, gc, convert, remote];

function version(): string {
  // dist/cli/main.js and src/cli/main.ts are both two folders below package.json.
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

const print = (line = '') => { process.stdout.write(`${line}\n`); };

/** One line that says what went wrong and what to do about it. */
function describeFailure(error: unknown): { message: string; exitCode: number } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  const message = ((error as Error)?.message ?? String(error)).replace(/\s*\n\s*/g, ' ');
  if (error instanceof CacheError) {
    const hint = error.code === 'EINTEGRITY' ? '; run "dase-cache validate --repair"'
      : error.code === 'ELOCKED' ? '; another process is writing to the cache: try again when it is done' : '';
    return { message: `${message.replace(/ \(run validate\(\{ repair: true \}\)\)$/, '')}${hint}`, exitCode: EXIT.problem };
  }
  const debug = process.env.DASE_CACHE_DEBUG ? '' : ' (set DASE_CACHE_DEBUG=1 to see where it came from)';
  if (process.env.DASE_CACHE_DEBUG) console.error(error);
  return { message: `${message}${debug}`, exitCode: EXIT.problem };
}

/** Runs the command line `argv` (without node and the script); resolves to the exit code. */
async function main(argv: string[]): Promise<number> {
  let cache: CacheManager | undefined;
  // Set by remote status and remote ls, which must leave the root alone: close() would open it to fold journals.
  let remoteOnly = false;
  try {
    const { command: name, rest } = splitCommand(argv);
    if (name === undefined) {
      if (rest.includes('--version') || rest.includes('-v')) { print(version()); return EXIT.ok; }
      if (rest.includes('--help') || rest.includes('-h')) { print(mainHelp(COMMANDS, version())); return EXIT.ok; }
      throw usageError(rest.length > 0 ? `expected a command before ${rest[0]}; run "dase-cache --help" for the commands`
        : `expected a command (${COMMANDS.map((c) => c.name).join(', ')}); run "dase-cache --help" for more`);
    }
    if (name === 'help') {
      const topic = COMMANDS.find((c) => c.name === rest.find((a) => !a.startsWith('-')));
      print(topic ? commandHelp(topic) : mainHelp(COMMANDS, version()));
      return EXIT.ok;
    }
    const command = COMMANDS.find((c) => c.name === name);
    if (!command) throw usageError(`unknown command ${JSON.stringify(name)}; run "dase-cache --help" for the commands (${COMMANDS.map((c) => c.name).join(', ')})`);
    const { values, positionals } = parseCommandArgs(command, rest);
    if (values.help) { print(commandHelp(command)); return EXIT.ok; }
    const root = resolveRoot(values.root as string | undefined);
    const context: CommandContext = {
      root, json: values.json === true, values, positionals, print,
      printJson: (value) => print(JSON.stringify(value, null, 2)),
      openCache: async (options) => {
        if (cache) return cache;
        cache = openCache(root, options);
        remoteOnly = options?.remoteOnly === true;
        return cache;
      },
    };
    return await command.run(context);
  } catch (error) {
    const { message, exitCode } = describeFailure(error);
    process.stderr.write(`dase-cache: ${message}\n`);
    return exitCode;
  } finally {
    // Writes the access bookkeeping and folds the journals, as any user of the cache does when done.
    if (remoteOnly) await cache?.remote?.close().catch(() => undefined);
    else await cache?.close().catch(() => undefined);
  }
}

// A reader that stops early (`dase-cache ls | head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await main(process.argv.slice(2));
