// Which file a value becomes, and back: arrays and CSR matrices as .npz (NumPy, SciPy), plain JSON as
// .json, bytes as .dat, tensor records and checkpoints as .safetensors. The index entry keeps a small
// description of the value, so `load` returns the same kind that was saved (a Uint8ClampedArray stays
// clamped, a bare typed array is not turned into { data, shape }); the file carries the same description
// (self-description.ts), so a lost index is rebuilt exactly.

import { describe } from '../_args.js';
import type { CsrMatrix } from '../kernels/csr.js';
import type { CategorySpec } from './categories.js';
import type { IndexEntry } from './category-index.js';
import { fileExtension } from './layout.js';
import { isUndescribed } from './python-entries.js';
import { decodeJson, findJsonProblem, isPlainJson, isPlainObject, jsonBytes, type JsonValue } from './formats/json.js';
import { isTypedArray, npyDescr, type NdArray, type TypedArray, type TypedArrayConstructor } from './formats/npy.js';
import { decodeNpz, encodeNpz, type NpzCompression } from './formats/npz.js';
import { csrFromNpzEntries, encodeCsrNpz, isCsrNpz } from './formats/sparse.js';
import type { Crc32 } from './formats/zip.js';
import { decodeCheckpoint, encodeCheckpoint, isCheckpoint, isTensorRecord } from './formats/safetensors.js';
import { decodeTorchStateDict } from './formats/torch.js';
import { embeddedDescription, needsSidecar, npzComment, safetensorsField, type SelfDescription } from './self-description.js';

export type Compression = NpzCompression;

export interface EncodedValue {
  ext: 'npz' | 'json' | 'dat' | 'safetensors';
  bytes: Uint8Array;
  /** Stored in the index entry as `value`; also what `ls` shows (kind, dtype, shape). */
  description: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  /** The description, when the file could not carry it: it goes to a sidecar. */
  sidecar?: SelfDescription;
}

const CONSTRUCTORS: Record<string, TypedArrayConstructor> = {
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
};

// A Buffer is a Uint8Array to everyone but its constructor's name.
function ctorName(data: TypedArray): string {
  const name = data.constructor.name;
  return name in CONSTRUCTORS ? name : data instanceof Uint8Array ? 'Uint8Array' : name;
}

function isNdArray(value: unknown): value is NdArray {
  if (!isPlainObject(value)) return false;
  const keys = Object.keys(value);
  // `dtype` says what the data means where its kind says too little (bool, float16, complex, strings: npy.ts).
  return (keys.length === 2 || (keys.length === 3 && typeof value.dtype === 'string')) && isTypedArray(value.data)
    && Array.isArray(value.shape) && value.shape.every((n) => Number.isSafeInteger(n) && n >= 0);
}

function isCsrMatrix(value: unknown): value is CsrMatrix {
  if (!isPlainObject(value)) return false;
  const v = value as Partial<CsrMatrix>;
  return Object.keys(value).length === 4 && Array.isArray(v.shape) && v.indptr instanceof Int32Array
    && v.indices instanceof Int32Array && v.data instanceof Float64Array;
}

function isArrayRecord(value: unknown): value is Record<string, TypedArray | NdArray> {
  if (!isPlainObject(value)) return false;
  const members = Object.values(value);
  return members.length > 0 && members.every((m) => isTypedArray(m) || isNdArray(m));
}

function summary(array: NdArray): Record<string, unknown> {
  return { ctor: ctorName(array.data), dtype: array.dtype ?? npyDescr(array.data), shape: array.shape };
}

function checkMetadata(where: string, metadata: unknown): Record<string, unknown> | undefined {
  if (metadata === undefined) return undefined;
  if (!isPlainObject(metadata)) throw new TypeError(`${where}: expected options.metadata to be a plain object, got ${describe(metadata)}`);
  const problem = findJsonProblem(metadata, 'metadata');
  if (problem) throw new TypeError(`${where}: metadata must be plain JSON; ${problem.path} is ${problem.got}`);
  return structuredClone(metadata);
}

type ValueForm = 'bytes' | 'buffer' | 'tensor' | 'tensors' | 'checkpoint' | 'json' | 'array' | 'ndarray' | 'csr' | 'record';

/**
 * Which form of file a value takes in a category, without encoding it: what `save` would accept.
 * @throws {TypeError} for a value the category cannot hold (the message says what it holds).
 */
export function classifyValue(where: string, spec: CategorySpec, value: unknown): ValueForm {
  if (spec.kind === 'bytes') {
    if (value instanceof Uint8Array) return 'bytes';
    if (value instanceof ArrayBuffer) return 'buffer';
    throw new TypeError(`${where}: this category expects bytes (Uint8Array or ArrayBuffer), got ${describe(value)}`);
  }
  if (spec.kind === 'tensors') {
    if (isTypedArray(value) || isNdArray(value)) return 'tensor';
    if (isCheckpoint(value)) return 'checkpoint';
    if (isTensorRecord(value)) return 'tensors';
    if (isPlainJson(value)) return 'json';
    throw new TypeError(`${where}: this category expects tensors (a record of typed arrays or { data, shape }, `
      + `or a checkpoint { model_state_dict, ... }) or plain JSON, got ${describe(value)}`);
  }
  if (isTypedArray(value)) return 'array';
  if (isNdArray(value)) return 'ndarray';
  if (isCsrMatrix(value)) return 'csr';
  if (isArrayRecord(value)) return 'record';
  if (isPlainJson(value)) return 'json';
  const problem = isPlainObject(value) || Array.isArray(value) ? findJsonProblem(value) : undefined;
  throw new TypeError(`${where}: this category expects arrays (typed arrays, { data, shape }, records of them, `
    + `CSR matrices) or plain JSON, got ${describe(value)}${problem ? `: ${problem.path} is ${problem.got}` : ''}`);
}

/**
 * Turns a value into the bytes of its file, checking everything before anything is written.
 * @throws {TypeError} for a value the category cannot hold (the message says what it holds).
 */
export function encodeValue(
  where: string, spec: CategorySpec, value: unknown, options: { metadata?: unknown; compression?: unknown }, crc32?: Crc32,
): EncodedValue {
  const compression = options.compression ?? 'none';
  if (compression !== 'none' && compression !== 'deflate') {
    throw new RangeError(`${where}: expected options.compression to be "none" or "deflate", got ${describe(compression)}`);
  }
  const metadata = checkMetadata(where, options.metadata);
  const form = classifyValue(where, spec, value);
  const self = (description: Record<string, unknown>): SelfDescription => ({ value: description, ...(metadata ? { metadata } : {}) });
  const done = (ext: EncodedValue['ext'], description: Record<string, unknown>, write: (self: SelfDescription) => Uint8Array): EncodedValue => {
    const described = self(description);
    return {
      ext, bytes: write(described), description, ...(metadata ? { metadata } : {}),
      ...(needsSidecar(ext, described) ? { sidecar: described } : {}),
    };
  };
  const npz = (entries: Record<string, NdArray>) => (described: SelfDescription) =>
    encodeNpz(entries, { compression, crc32, comment: npzComment(described) });
  const checkpoint = (tree: unknown, as: 'record' | 'checkpoint') => (described: SelfDescription) =>
    encodeCheckpoint(tree as Parameters<typeof encodeCheckpoint>[0], as, safetensorsField(described));

  switch (form) {
    case 'bytes': return done('dat', { kind: 'bytes', as: 'Uint8Array' }, () => value as Uint8Array);
    case 'buffer': return done('dat', { kind: 'bytes', as: 'ArrayBuffer' }, () => new Uint8Array(value as ArrayBuffer));
    case 'tensor': return done('safetensors', { kind: 'tensor' }, checkpoint({ tensor: value }, 'record'));
    // As classified: a record may hold a tensor that happens to be named model_state_dict.
    case 'checkpoint': return done('safetensors', { kind: form }, checkpoint(value, 'checkpoint'));
    case 'tensors': return done('safetensors', { kind: form }, checkpoint(value, 'record'));
    case 'json': return done('json', { kind: 'json' }, () => jsonBytes(value as JsonValue)); // checked by classifyValue
    case 'array': {
      const data = value as TypedArray;
      const array = { data, shape: [data.length] };
      return done('npz', { kind: 'array', ...summary(array) }, npz({ data: array }));
    }
    case 'ndarray': return done('npz', { kind: 'ndarray', ...summary(value as NdArray) }, npz({ data: value as NdArray }));
    case 'csr': {
      const matrix = value as CsrMatrix;
      return done('npz', { kind: 'csr', shape: matrix.shape, nnz: matrix.data.length },
        (described) => encodeCsrNpz(matrix, { compression, crc32, comment: npzComment(described) }));
    }
    case 'record': {
      const entries: Record<string, NdArray> = {};
      const members: Record<string, unknown> = {};
      for (const [name, member] of Object.entries(value as Record<string, TypedArray | NdArray>)) {
        const array = isTypedArray(member) ? { data: member, shape: [member.length] } : member;
        entries[name] = array;
        members[name] = { form: isTypedArray(member) ? 'array' : 'ndarray', ...summary(array) };
      }
      return done('npz', { kind: 'record', members }, npz(entries));
    }
  }
}

function member(array: NdArray, form: unknown, what: string): TypedArray | NdArray {
  // An array whose data needs its dtype to be read (bool, float16, complex, strings) always keeps it.
  if (array.dtype !== undefined) return { data: array.data, shape: array.shape, dtype: array.dtype };
  if (form === 'array') {
    if (array.shape.length !== 1) throw new Error(`${what}: expected a 1-D array, found shape [${array.shape}]`);
    return array.data;
  }
  return { data: array.data, shape: array.shape };
}

function asConstructor(ctor: unknown): TypedArrayConstructor | undefined {
  return typeof ctor === 'string' ? CONSTRUCTORS[ctor] : undefined;
}

/**
 * Turns a verified file back into the value that was saved.
 * @throws {Error} when the file does not hold what its description says.
 */
export function decodeValue(bytes: Uint8Array, description: Record<string, unknown>, what: string): unknown {
  switch (description.kind) {
    case 'bytes':
      return description.as === 'ArrayBuffer' ? bytes.slice().buffer : new Uint8Array(bytes);
    case 'json':
      return decodeJson(bytes, what);
    case 'array':
    case 'ndarray': {
      const as = asConstructor(description.ctor);
      // The bytes were just read for this call: arrays may view them in place.
      const { data } = decodeNpz(bytes, { ...(as ? { as: { data: as } } : {}), view: true });
      if (!data) throw new Error(`${what}: expected an .npz with a "data" array`);
      return member(data, description.kind, what);
    }
    case 'record': {
      const members = (description.members ?? {}) as Record<string, { form?: unknown; ctor?: unknown }>;
      const as = Object.fromEntries(Object.entries(members).flatMap(([name, m]) => {
        const ctor = asConstructor(m.ctor);
        return ctor ? [[name, ctor]] : [];
      }));
      const arrays = decodeNpz(bytes, { as, view: true });
      return Object.fromEntries(Object.entries(arrays).map(([name, array]) => [name, member(array, members[name]?.form ?? 'ndarray', what)]));
    }
    case 'csr':
      return csrFromNpzEntries(decodeNpz(bytes, { view: true }));
    case 'tensor': {
      const { tensor } = decodeCheckpoint(bytes) as Record<string, unknown>;
      if (tensor === undefined) throw new Error(`${what}: expected a safetensors file with a "tensor"`);
      return tensor;
    }
    case 'tensors':
    case 'checkpoint':
      return decodeCheckpoint(bytes);
    case 'torch':
      return decodeTorchStateDict(bytes);
    default:
      throw new Error(`${what}: unknown stored value kind ${describe(description.kind)} (written by a newer dase-cache?)`);
  }
}

/**
 * How to read an entry's file: its own description, or for an entry written without one (the Python cache),
 * what the file's content says; undefined when the file cannot be read back.
 */
export function entryDescription(entry: Pick<IndexEntry, 'file' | 'value'>, bytes: Uint8Array, spec: CategorySpec): Record<string, unknown> | undefined {
  return isUndescribed(entry) ? describeStoredFile(bytes, fileExtension(entry.file), spec)?.value : entry.value;
}

/**
 * What a file found without an index entry holds (after index.json was lost): the description it carries
 * (inside itself, or in `sidecar`), else one inferred from its content; undefined when it cannot be read back.
 */
export function describeStoredFile(bytes: Uint8Array, ext: string, spec: CategorySpec, sidecar?: SelfDescription): SelfDescription | undefined {
  for (const carried of [embeddedDescription(bytes, ext), sidecar]) {
    if (carried === undefined) continue;
    try {
      decodeValue(bytes, carried.value, 'describeStoredFile');
      return carried;
    } catch {
      // Describes another file than this one: fall back to what the content says.
    }
  }
  const value = inferDescription(bytes, ext, spec);
  return value === undefined ? undefined : { value };
}

function inferDescription(bytes: Uint8Array, ext: string, spec: CategorySpec): Record<string, unknown> | undefined {
  try {
    switch (ext) {
      case 'dat':
        return spec.kind === 'bytes' ? { kind: 'bytes', as: 'Uint8Array' } : undefined;
      case 'json':
        decodeJson(bytes);
        return { kind: 'json' };
      case 'pt':
        decodeTorchStateDict(bytes);
        return { kind: 'torch' };
      case 'safetensors':
        decodeCheckpoint(bytes);
        return { kind: 'tensors' };
      case 'npz': {
        const arrays = decodeNpz(bytes);
        if (isCsrNpz(arrays)) return { kind: 'csr' };
        const names = Object.keys(arrays);
        if (names.length === 1 && names[0] === 'data') {
          return { kind: arrays.data.shape.length === 1 && arrays.data.dtype === undefined ? 'array' : 'ndarray', ...summary(arrays.data) };
        }
        return { kind: 'record', members: Object.fromEntries(names.map((n) => [n, { form: 'ndarray', ...summary(arrays[n]) }])) };
      }
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}
