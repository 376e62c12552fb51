// Entry keys: a file name in the category folder, so only a safe alphabet, checked before any I/O.

import { describe } from '../_args.js';

export const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** Throws unless `key` is a valid entry key (it can never leave the category folder or hide a file). */
export function checkKey(where: string, key: unknown): string {
  if (typeof key !== 'string') throw new TypeError(`${where}: expected key to be a string, got ${describe(key)}`);
  if (!KEY_PATTERN.test(key)) {
    throw new RangeError(`${where}: expected key to match ${KEY_PATTERN} (letters, digits, '.', '_', '-', `
      + `at most 200, not starting with '.', '_' or '-'), got ${describe(key)}`);
  }
  return key;
}
