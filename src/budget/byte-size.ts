// Sizes as people write them: bytes, or a number with a unit, every unit a power of 1024 (as index.json's
// total_size_mb and `du -h` count). Shared by the budget options and the command line's --max-size.

const POWERS: Record<string, number> = { '': 0, b: 0, k: 1, m: 2, g: 3, t: 4 };
const SIZE = /^(\d+(?:\.\d+)?|\.\d+)\s*([kmgt]?)(i?b)?$/i;

/**
 * Parses 12345, 500M, 1.5G, 200MB, 1GiB, 64k (all units powers of 1024) into whole bytes; a number is taken
 * as bytes.
 * @param size - the size as given.
 * @param where - names the option in the error.
 * @throws {RangeError} for anything else: "expected ..., got ...".
 * @example parseByteSize('1.5G', 'maxBytes') // 1610612736
 */
export function parseByteSize(size: unknown, where: string): number {
  if (typeof size === 'number') {
    if (Number.isSafeInteger(size) && size >= 0) return size;
    throw new RangeError(`${where}: expected a whole number of bytes >= 0, got ${size}`);
  }
  const match = typeof size === 'string' ? SIZE.exec(size.trim()) : null;
  // 'iB' needs a unit before it (1iB is not a size); a bare 'B' means bytes.
  if (!match || (match[3]?.toLowerCase() === 'ib' && match[2] === '')) {
    throw new RangeError(`${where}: bad size ${JSON.stringify(size)}; give bytes (12345) or a number with K, M, G or T (500M, 1.5G, 200MB, 1GiB)`);
  }
  const bytes = Math.floor(Number(match[1]) * 1024 ** POWERS[match[2].toLowerCase()]);
  if (!Number.isSafeInteger(bytes)) throw new RangeError(`${where}: size ${JSON.stringify(size)} is too large`);
  return bytes;
}
