// Sizes on the command line: bytes, or a number with a unit. Every unit is a power of 1024, as
// index.json's total_size_mb and `du -h` count.

import { usageError } from './errors.js';

const POWERS: Record<string, number> = { '': 0, b: 0, k: 1, m: 2, g: 3, t: 4 };
const SIZE = /^(\d+(?:\.\d+)?|\.\d+)\s*([kmgt]?)(i?b)?$/i;

/**
 * Parses 12345, 500M, 1.5G, 200MB, 1GiB, 64k (all units powers of 1024) into whole bytes.
 * @param text - the size as given.
 * @param option - the option's name, for the error.
 * @throws {CliError} (exit 2) for anything else.
 * @example parseSize('1.5G', '--max-size') // 1610612736
 */
export function parseSize(text: string, option: string): number {
  const match = SIZE.exec(text.trim());
  // 'iB' needs a unit before it (1iB is not a size); a bare 'B' means bytes.
  if (!match || (match[3]?.toLowerCase() === 'ib' && match[2] === '')) {
    throw usageError(`${option}: bad size ${JSON.stringify(text)}; give bytes (12345) or a number with K, M, G or T (500M, 1.5G, 200MB, 1GiB)`);
  }
  const bytes = Math.floor(Number(match[1]) * 1024 ** POWERS[match[2].toLowerCase()]);
  if (!Number.isSafeInteger(bytes)) throw usageError(`${option}: size ${JSON.stringify(text)} is too large`);
  return bytes;
}
