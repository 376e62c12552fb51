// What a data file carries about itself, so that a lost index.json is rebuilt exactly: the description that
// `load` rebuilds the value from, and the metadata given to `save` (memoize's identity included). Arrays keep
// it in the .npz's zip comment and tensors in the safetensors header's __metadata__, which NumPy, SciPy and
// safetensors readers ignore; .json and .dat files, and descriptions too long for a zip comment, in a hidden
// sidecar that names the checksum of the file it describes (so a stale one is never believed).

import type { IndexEntry } from './category-index.js';
import { isPlainObject } from './formats/json.js';
import { fileExtension } from './layout.js';
import { isUndescribed } from './python-entries.js';
import { decodeSafetensors } from './formats/safetensors.js';
import { MAX_ZIP_COMMENT, readZipComment } from './formats/zip.js';

export interface SelfDescription {
  /** How to turn the file back into the value (see values.ts). */
  value: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

/** The key of the description in a safetensors header's __metadata__ (and the tag in a zip comment). */
export const DESCRIPTION_KEY = 'dase_cache.entry';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function fields(description: SelfDescription, checksum?: string): Record<string, unknown> {
  return { ...(checksum ? { checksum } : {}), value: description.value, ...(description.metadata ? { metadata: description.metadata } : {}) };
}

function text(description: SelfDescription, checksum?: string): string {
  return JSON.stringify({ [DESCRIPTION_KEY]: fields(description, checksum) });
}

function parse(json: string, checksum?: string): SelfDescription | undefined {
  try {
    const record = (JSON.parse(json) as Record<string, unknown>)[DESCRIPTION_KEY];
    if (!isPlainObject(record) || !isPlainObject(record.value) || typeof record.value.kind !== 'string') return undefined;
    if (record.metadata !== undefined && !isPlainObject(record.metadata)) return undefined;
    if (checksum !== undefined && record.checksum !== checksum) return undefined;
    return { value: record.value, ...(record.metadata ? { metadata: record.metadata } : {}) };
  } catch {
    return undefined;
  }
}

/** The zip comment of an .npz that describes itself, or undefined when the description is too long for one. */
export function npzComment(description: SelfDescription): Uint8Array | undefined {
  const bytes = encoder.encode(text(description));
  return bytes.length <= MAX_ZIP_COMMENT ? bytes : undefined;
}

/** The safetensors __metadata__ field that describes the file. */
export function safetensorsField(description: SelfDescription): Record<string, string> {
  return { [DESCRIPTION_KEY]: JSON.stringify(fields(description)) };
}

/** Whether a file of this kind with this description needs a sidecar: what it cannot say itself, and is not obvious. */
export function needsSidecar(ext: string, description: SelfDescription): boolean {
  switch (ext) {
    case 'npz': return npzComment(description) === undefined;
    case 'json': return description.metadata !== undefined;
    case 'dat': return description.metadata !== undefined || description.value.as !== 'Uint8Array';
    default: return false;
  }
}

/** What an index entry says about its file, as the file would say it. */
export function describedBy(entry: Pick<IndexEntry, 'value' | 'metadata'>): SelfDescription {
  return { value: entry.value, ...(entry.metadata ? { metadata: entry.metadata } : {}) };
}

/** Whether an entry's file has (or should have) a sidecar. */
export function entryNeedsSidecar(entry: Pick<IndexEntry, 'file' | 'value' | 'metadata'>): boolean {
  // An entry another writer made (the Python cache) is described by its own files, not ours.
  return !isUndescribed(entry) && needsSidecar(fileExtension(entry.file), describedBy(entry));
}

/** The sidecar file's bytes for the data file whose checksum is given. */
export function sidecarBytes(checksum: string, description: SelfDescription): Uint8Array {
  return encoder.encode(`${text(description, checksum)}\n`);
}

/** The description in a sidecar, if it is one and describes the file with this checksum. */
export function readSidecar(bytes: Uint8Array, checksum: string): SelfDescription | undefined {
  return parse(decoder.decode(bytes), checksum);
}

/** The description a data file carries inside itself (.npz, .safetensors), if any. */
export function embeddedDescription(bytes: Uint8Array, ext: string): SelfDescription | undefined {
  try {
    if (ext === 'npz') {
      const comment = readZipComment(bytes);
      return comment.length === 0 ? undefined : parse(decoder.decode(comment));
    }
    if (ext === 'safetensors') {
      const field = decodeSafetensors(bytes).metadata[DESCRIPTION_KEY];
      return field === undefined ? undefined : parse(JSON.stringify({ [DESCRIPTION_KEY]: JSON.parse(field) }));
    }
  } catch {
    // Not readable as its kind: the caller finds out when decoding it.
  }
  return undefined;
}
