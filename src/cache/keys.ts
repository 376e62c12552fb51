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

/** Whether an entry may have this key (see {@link checkStoredKey}). */
export function isStoredKey(key: string): boolean {
  return STORED_KEY.test(key);
}

// Keys an existing entry may have (the Python cache allowed any file name: 'kernel alpha=1.5', '_private'):
// readable and deletable, never leaving the category folder nor naming the cache's own files.
const STORED_KEY = /^[^./\\\u0000-\u001f\u007f][^/\\\u0000-\u001f\u007f]{0,254}$/;

/**
 * Throws unless `key` may name an existing entry: any key `checkKey` accepts, and the keys of entries another
 * writer made (the Python cache) as long as they stay inside the category folder: no '/' or '\', no control
 * characters, not starting with '.', at most 255 characters. New saves still need {@link checkKey}.
 */
export function checkStoredKey(where: string, key: unknown): string {
  if (typeof key === 'string' && isStoredKey(key)) return key;
  if (typeof key !== 'string') throw new TypeError(`${where}: expected key to be a string, got ${describe(key)}`);
  if (!STORED_KEY.test(key)) {
    throw new RangeError(`${where}: expected a key without '/', '\\' or control characters, not starting with '.', `
      + `at most 255 characters, got ${describe(key)}`);
  }
  return key;
}
