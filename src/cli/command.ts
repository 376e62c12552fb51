// What a command is: its help (usage, options, examples, JSON shape) and its run function.

import type { CacheManager } from '../node.js';
import type { OpenCacheOptions } from './context.js';

/** A command-line option, as util.parseArgs takes it, with its help. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** The value's placeholder in help, e.g. 'size'. */
  value?: string;
  description: string;
}

/** What a command gets: its parsed options and positionals, where to write, and how to open the cache. */
export interface CommandContext {
  /** The cache root: --root, else $DASE_CACHE_DIR, else ./cache. */
  root: string;
  json: boolean;
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  /** Writes a line to stdout. */
  print(line?: string): void;
  /** Writes a value as JSON (2-space indented) to stdout. */
  printJson(value: unknown): void;
  /**
   * The cache at `root`. Unless `create` or `remoteOnly` is set, the root must already hold a cache (so a
   * mistyped root is reported instead of filled with empty category folders). With `remoteOnly`, only the
   * remote is closed when the command ends, so that the root is never opened. Opened once per command.
   */
  openCache(options?: OpenCacheOptions): Promise<CacheManager>;
}

export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Arguments after the name, e.g. '<category> [key]'. */
  usage: string;
  /** Paragraphs of explanation for --help. */
  description: string;
  /** How many positionals it takes. */
  positionals: { min: number; max: number };
  options: Record<string, OptionSpec>;
  /** [command line, what it does] */
  examples: [string, string][];
  /** What --json prints. */
  json: string;
  /** @returns the exit code. @throws {CliError} with the message and exit code for the user. */
  run(context: CommandContext): Promise<number>;
}
