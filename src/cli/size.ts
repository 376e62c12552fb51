// Sizes on the command line: bytes, or a number with a unit (see parseByteSize), as a usage error when bad.

import { parseByteSize } from '../budget/byte-size.js';
import { usageError } from './errors.js';

/**
 * Parses 12345, 500M, 1.5G, 200MB, 1GiB, 64k (all units powers of 1024) into whole bytes.
 * @param text - the size as given.
 * @param option - the option's name, for the error.
 * @throws {CliError} (exit 2) for anything else.
 * @example parseSize('1.5G', '--max-size') // 1610612736
 */
export function parseSize(text: string, option: string): number {
  try {
    return parseByteSize(text, option);
  } catch (error) {
    throw usageError((error as Error).message);
  }
}
