// The action-cache half of the remote: one small JSON manifest per (category, key) that names the blob holding
// the entry's file by its SHA-256, with what the local index needs to rebuild the entry (the value's
// description, the metadata given to save, memoize's identity among it). Blobs are content-addressed, so a
// manifest is the only thing that changes when a key is saved again.

import { isPlainObject } from '../cache/formats/json.js';

export const MANIFEST_FORMAT = 'dase-cache-manifest/1';

/** An entry on the remote: the manifest of one (category, key), naming the blob that holds its file. */
export interface Manifest {
  /** The manifest format, `'dase-cache-manifest/1'`. */
  format: typeof MANIFEST_FORMAT;
  /** The entry's category. */
  category: string;
  /** The entry's key. */
  key: string;
  /** The blob: its SHA-256 (hex), its size, and the extension of the file it is (npz, json, dat, safetensors). */
  blob: {
    /** The blob's SHA-256, 64 lowercase hex characters: its name on the remote. */
    sha256: string;
    /** Its size in bytes. */
    size: number;
    /** The extension of the file it is: 'npz', 'json', 'dat' or 'safetensors'. */
    ext: string;
  };
  /** How to turn the blob back into the value (the index entry's `value`). */
  value: Record<string, unknown>;
  /** The metadata given to save (memoize's compute_ms and identity among it). */
  metadata?: Record<string, unknown>;
  /** When the entry was saved (ISO 8601). */
  created_at: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
const EXTENSIONS = new Set(['npz', 'json', 'dat', 'safetensors']);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The name of a key's manifest on the remote: the SHA-256 of the prefix, category and key (what bazel-remote
 * expects under /ac/: a 64-hex digest). NUL separates the parts, and none of them can contain one.
 */
export function manifestDigest(hashHex: (bytes: Uint8Array) => string, prefix: string, category: string, key: string): string {
  return hashHex(encoder.encode(`${MANIFEST_FORMAT}\0${prefix}\0${category}\0${key}`));
}

export function encodeManifest(manifest: Manifest): Uint8Array {
  return encoder.encode(JSON.stringify(manifest));
}

/**
 * The manifest in these bytes, or undefined when they are not a manifest (of `expected`'s category and key,
 * when given): anything malformed, from another format version, or about another key is a miss, never data.
 */
export function parseManifest(bytes: Uint8Array, expected?: { category: string; key: string }): Manifest | undefined {
  let m: unknown;
  try {
    m = JSON.parse(decoder.decode(bytes));
  } catch {
    return undefined;
  }
  if (!isPlainObject(m) || m.format !== MANIFEST_FORMAT || typeof m.category !== 'string' || typeof m.key !== 'string') return undefined;
  if (expected && (m.category !== expected.category || m.key !== expected.key)) return undefined;
  const blob = m.blob;
  if (!isPlainObject(blob) || typeof blob.sha256 !== 'string' || !HEX64.test(blob.sha256)
    || !Number.isSafeInteger(blob.size) || (blob.size as number) < 0 || typeof blob.ext !== 'string' || !EXTENSIONS.has(blob.ext)) return undefined;
  if (!isPlainObject(m.value) || typeof m.value.kind !== 'string') return undefined;
  if (m.metadata !== undefined && !isPlainObject(m.metadata)) return undefined;
  if (typeof m.created_at !== 'string') return undefined;
  return m as unknown as Manifest;
}
