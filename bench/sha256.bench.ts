// SHA-256 of 64 B, 1 MiB and 64 MiB: dase-cache against hash-wasm, @noble/hashes and node:crypto.

import { createHash, randomFillSync } from 'node:crypto';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { createSHA256 } from 'hash-wasm';
import { sha256 } from '../src/node.js';
import { compare, type ComparisonResult, type Target } from './_harness.js';

const HASH_WASM = 'hash-wasm createSHA256 (reused hasher)';
const NOBLE = '@noble/hashes sha256';
const NODE = 'node:crypto createHash (native, SHA-NI)';

interface Size { label: string; bytes: number; targets: Target[] }

const SIZES: Size[] = [
  { label: '64 B', bytes: 64, targets: [{ baseline: NODE, atLeast: 1 }] },
  {
    label: '1 MiB', bytes: 1 << 20,
    targets: [{ baseline: HASH_WASM, atLeast: 1 }, { baseline: HASH_WASM, atLeast: 1.15, label: 'moonshot' }, { baseline: NOBLE, atLeast: 2 }],
  },
  {
    label: '64 MiB', bytes: 64 << 20,
    targets: [{ baseline: HASH_WASM, atLeast: 1 }, { baseline: HASH_WASM, atLeast: 1.15, label: 'moonshot' }, { baseline: NOBLE, atLeast: 2 }],
  },
];

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export async function benchSha256(): Promise<ComparisonResult[]> {
  // One hash-wasm hasher reused for every message: its fastest synchronous path.
  const hasher = await createSHA256();
  const hashWasm = (data: Uint8Array) => { hasher.init(); hasher.update(data); return hasher.digest('binary'); };
  const nodeCrypto = (data: Uint8Array) => createHash('sha256').update(data).digest();

  const results: ComparisonResult[] = [];
  for (const size of SIZES) {
    const data = randomFillSync(new Uint8Array(size.bytes));
    const expected = hex(nodeCrypto(data));
    for (const [name, digest] of [['dase-cache', sha256(data)], [HASH_WASM, hashWasm(data)], [NOBLE, nobleSha256(data)]] as const) {
      if (hex(digest) !== expected) throw new Error(`sha256 ${size.label}: ${name} disagrees with node:crypto`);
    }
    results.push(compare({
      name: `sha256, ${size.label}`,
      subject: { name: 'dase-cache sha256', run: () => sha256(data) },
      baselines: [
        { name: HASH_WASM, run: () => hashWasm(data) },
        { name: NOBLE, run: () => nobleSha256(data) },
        { name: NODE, run: () => nodeCrypto(data) },
      ],
      bytesPerOp: size.bytes,
      throughputUnit: 'MB/s',
      targets: size.targets,
    }));
  }
  return results;
}
