// CRC-32 of 1 KiB, 64 KiB and 8 MB: the WASM kernel (what browsers' saves now use) against the plain-JS table
// that zip.ts falls back to, and Node's zlib.crc32 (native, what Node's saves use).

import { randomFillSync } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { crc32Js } from '../src/cache/formats/zip.js';
import { crc32 } from '../src/kernels/crc32.js';
import { compare, type ComparisonResult, type Target } from './_harness.js';

const JS = 'plain-JS table, a byte at a time (zip.ts fallback)';
const ZLIB = 'node:zlib crc32 (native)';

interface Size { label: string; bytes: number; targets: Target[] }

// The goal: an 8 MB save's CRC-32 in a few ms, not the ~20 ms of the JavaScript loop.
const SIZES: Size[] = [
  { label: '1 KiB', bytes: 1 << 10, targets: [{ baseline: JS, atLeast: 1 }] },
  { label: '64 KiB', bytes: 64 << 10, targets: [{ baseline: JS, atLeast: 5 }] },
  { label: '8 MB', bytes: 8e6, targets: [{ baseline: JS, atLeast: 5 }] },
];

export function benchCrc32(): ComparisonResult[] {
  const results: ComparisonResult[] = [];
  for (const size of SIZES) {
    const data = randomFillSync(new Uint8Array(size.bytes));
    const expected = zlibCrc32(data);
    for (const [name, value] of [['dase-cache', crc32(data)], [JS, crc32Js(data)]] as const) {
      if (value !== expected) throw new Error(`crc32 ${size.label}: ${name} gives ${value}, node:zlib ${expected}`);
    }
    results.push(compare({
      name: `crc32, ${size.label}`,
      subject: { name: 'dase-cache crc32 (WASM, slice-by-16)', run: () => crc32(data) },
      baselines: [
        { name: JS, run: () => crc32Js(data) },
        { name: ZLIB, run: () => zlibCrc32(data) },
      ],
      bytesPerOp: size.bytes,
      throughputUnit: 'MB/s',
      targets: size.targets,
    }));
  }
  return results;
}
