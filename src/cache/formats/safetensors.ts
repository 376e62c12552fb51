// The safetensors format (huggingface) as a pure in-memory codec, and the checkpoint layer on top of it that the
// cache's `surrogates` category stores: nested state dicts, optimizer state and training fields in one file.
//
// Layout: u64 little-endian header length N, N bytes of UTF-8 JSON header (padded with spaces to a multiple of
// 8, as the reference writer does), then the raw little-endian tensor bytes, contiguous, in the order of their
// `data_offsets` (relative to the start of the data section).

import { describe } from '../../_args.js';
import { hostIsLittleEndian, swapBytes } from './byte-order.js';
import { isPlainObject, jsonLeafProblem, propertyPath, type JsonValue } from './json.js';

/** The typed arrays a tensor's data may be. */
export type TypedArray =
  | Float64Array | Float32Array | BigInt64Array | BigUint64Array | Int32Array | Uint32Array
  | Int16Array | Uint16Array | Int8Array | Uint8Array;

/** The safetensors dtypes this codec reads and writes (F16, BF16 and the F8 kinds have no typed array here). */
export type SafetensorsDtype = 'F64' | 'F32' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'U64' | 'U32' | 'U16' | 'BOOL';

/**
 * An N-D tensor: data in C order (last axis fastest), as NumPy and PyTorch. `dtype` may be omitted (it follows
 * from the data's kind); it is needed only for BOOL, stored as a Uint8Array of 0 and 1.
 */
export type Tensor = { data: TypedArray; shape: number[]; dtype?: SafetensorsDtype };

/** A tensor read from a file: a fresh, aligned copy of its data, always with its dtype. */
export type DecodedTensor = { data: TypedArray; shape: number[]; dtype: SafetensorsDtype };

/** A tensor as it may appear in a state dict: a bare typed array (1-D) or a {@link Tensor}. */
export type TensorLike = TypedArray | Tensor;

/** A state dict: tensors, flat (`{ 'layer1.weight': ... }`) or nested (`{ layer1: { weight: ... } }`). */
export interface TensorRecord { [name: string]: TensorLike | TensorRecord }

/** What a checkpoint may hold besides its model: tensors, JSON values, and arrays / plain objects of both. */
export type CheckpointValue = TensorLike | JsonValue | CheckpointValue[] | { [key: string]: CheckpointValue };

/** A training checkpoint, as `torch.save`d dicts are usually laid out; any further fields are kept too. */
export type Checkpoint = {
  model_state_dict: TensorRecord;
  optimizer_state_dict?: { [key: string]: CheckpointValue };
  epoch?: number;
  loss?: number;
  [field: string]: CheckpointValue | undefined;
};

/** The `__metadata__` key holding how a checkpoint's tensors and JSON fields fit back together. */
const CHECKPOINT_STRUCTURE_KEY = 'dase_cache.structure';

// The reference implementation's limit (MAX_HEADER_SIZE): larger headers are refused as damaged or hostile.
const MAX_HEADER_BYTES = 100_000_000;

type ArrayKind = { new (buffer: ArrayBuffer): TypedArray; readonly name: string };

const DTYPES: Record<SafetensorsDtype, { size: number; array: ArrayKind }> = {
  F64: { size: 8, array: Float64Array },
  F32: { size: 4, array: Float32Array },
  I64: { size: 8, array: BigInt64Array },
  I32: { size: 4, array: Int32Array },
  I16: { size: 2, array: Int16Array },
  I8: { size: 1, array: Int8Array },
  U8: { size: 1, array: Uint8Array },
  U64: { size: 8, array: BigUint64Array },
  U32: { size: 4, array: Uint32Array },
  U16: { size: 2, array: Uint16Array },
  BOOL: { size: 1, array: Uint8Array },
};
const DTYPE_NAMES = Object.keys(DTYPES) as SafetensorsDtype[];
const ARRAY_NAMES = 'Float64Array, Float32Array, BigInt64Array, BigUint64Array, Int32Array, Uint32Array, Int16Array, Uint16Array, Int8Array or Uint8Array';

// By the toString tag rather than instanceof, so typed arrays from another realm (a vm context, a worker's
// structured clone) are recognised too. Uint8ClampedArray is left out: it would come back as a Uint8Array.
const DTYPE_OF_ARRAY = new Map<string, SafetensorsDtype>([
  ['Float64Array', 'F64'], ['Float32Array', 'F32'], ['BigInt64Array', 'I64'], ['BigUint64Array', 'U64'],
  ['Int32Array', 'I32'], ['Uint32Array', 'U32'], ['Int16Array', 'I16'], ['Uint16Array', 'U16'],
  ['Int8Array', 'I8'], ['Uint8Array', 'U8'],
]);

function arrayDtype(value: unknown): SafetensorsDtype | undefined {
  if (!ArrayBuffer.isView(value)) return undefined;
  return DTYPE_OF_ARRAY.get(Object.prototype.toString.call(value).slice(8, -1));
}

function isDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.hasOwn(DTYPES, value);
}

// Assignment would call the __proto__ setter for a tensor or field named "__proto__"; define it instead.
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

// ---------------------------------------------------------------------------------------------------------
// Tensors

/** A tensor checked for writing. */
type Entry = { name: string; dtype: SafetensorsDtype; shape: number[]; data: TypedArray };

/** Whether a value has the form of a tensor (a typed array, or an object with exactly data, shape and dtype?). */
function looksLikeTensor(value: unknown): boolean {
  if (ArrayBuffer.isView(value)) return true;
  if (!isPlainObject(value) || !Object.hasOwn(value, 'data') || !Object.hasOwn(value, 'shape')) return false;
  return ArrayBuffer.isView(value.data) && Object.keys(value).every((k) => k === 'data' || k === 'shape' || k === 'dtype');
}

/** Checks a tensor (bare typed array or { data, shape, dtype? }) for writing; `path` names it in messages. */
function checkTensor(where: string, path: string, value: unknown): Omit<Entry, 'name'> & { form: TensorForm } {
  if (ArrayBuffer.isView(value)) {
    const dtype = arrayDtype(value);
    if (dtype === undefined) throw new TypeError(`${where}: expected ${path} to be a ${ARRAY_NAMES}, got ${describe(value)}`);
    const data = value as TypedArray;
    return { dtype, shape: [data.length], data, form: 'array' };
  }
  if (!looksLikeTensor(value)) {
    throw new TypeError(`${where}: expected ${path} to be a typed array or { data, shape, dtype? }, got ${describe(value)}`);
  }
  const t = value as { data: unknown; shape: unknown; dtype?: unknown };
  const natural = arrayDtype(t.data);
  if (natural === undefined) throw new TypeError(`${where}: expected ${path}.data to be a ${ARRAY_NAMES}, got ${describe(t.data)}`);
  const data = t.data as TypedArray;
  if (!Array.isArray(t.shape)) throw new TypeError(`${where}: expected ${path}.shape to be an array of non-negative integers, got ${describe(t.shape)}`);
  let count = 1;
  t.shape.forEach((n: unknown, i) => {
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      throw new RangeError(`${where}: expected ${path}.shape[${i}] to be a non-negative integer, got ${describe(n)}`);
    }
    count *= n;
  });
  if (count !== data.length) {
    throw new RangeError(`${where}: expected ${path}.shape [${t.shape.join(', ')}] (${count} elements) to match ${path}.data, got length ${data.length}`);
  }
  let dtype = natural;
  const hasDtype = Object.hasOwn(t, 'dtype');
  if (hasDtype) {
    if (!isDtype(t.dtype)) throw new RangeError(`${where}: expected ${path}.dtype to be one of ${DTYPE_NAMES.join(', ')}, got ${describe(t.dtype)}`);
    if (t.dtype !== natural && !(t.dtype === 'BOOL' && natural === 'U8')) {
      const allowed = natural === 'U8' ? '"U8" or "BOOL"' : `"${natural}"`;
      throw new RangeError(`${where}: expected ${path}.dtype to be ${allowed} for a ${DTYPES[natural].array.name}, got ${describe(t.dtype)}`);
    }
    dtype = t.dtype;
    if (dtype === 'BOOL') {
      // PyTorch and NumPy assume a bool byte is 0 or 1; anything else is undefined behaviour there.
      const bad = (data as Uint8Array).findIndex((b) => b > 1);
      if (bad >= 0) throw new RangeError(`${where}: expected ${path}.data to hold only 0 and 1 for dtype BOOL, got ${data[bad]} at index ${bad}`);
    }
  }
  return { dtype, shape: [...(t.shape as number[])], data, form: hasDtype ? 'nd+dtype' : 'nd' };
}

function checkName(where: string, name: string): void {
  if (name === '') throw new RangeError(`${where}: expected tensor names to be non-empty, got ""`);
  if (name === '__metadata__') throw new RangeError(`${where}: expected tensor names other than "__metadata__" (reserved for the metadata), got "__metadata__"`);
}

function checkMetadata(where: string, metadata: unknown): Record<string, string> | undefined {
  if (metadata === undefined) return undefined;
  if (!isPlainObject(metadata)) throw new TypeError(`${where}: expected metadata to be a record of strings, got ${describe(metadata)}`);
  for (const key of Object.keys(metadata)) {
    if (typeof metadata[key] !== 'string') {
      throw new TypeError(`${where}: expected ${propertyPath('metadata', key)} to be a string, got ${describe(metadata[key])}`);
    }
  }
  return metadata as Record<string, string>;
}

/** Lays checked tensors out and writes the file. */
function write(where: string, entries: Entry[], metadata: Record<string, string> | undefined): Uint8Array {
  // Largest items first, so that every tensor starts at a multiple of its item size (the header is padded to
  // 8 bytes): a reader may view the data in place. The reference writer orders by (dtype desc, name); within
  // one item size we order by name alone, so files equal the reference's byte for byte unless two dtypes of the
  // same size (F32 and I32, say) are mixed. Readers do not depend on the order.
  const sorted = [...entries].sort((a, b) => DTYPES[b.dtype].size - DTYPES[a.dtype].size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // Built by hand rather than with JSON.stringify of one object, which would move integer-like names ("0")
  // first: the reference writes __metadata__ first, then the tensors in data order.
  const parts: string[] = [];
  if (metadata !== undefined) parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  let offset = 0;
  for (const e of sorted) {
    const end = offset + e.data.byteLength;
    parts.push(`${JSON.stringify(e.name)}:${JSON.stringify({ dtype: e.dtype, shape: e.shape, data_offsets: [offset, end] })}`);
    offset = end;
  }
  const header = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(header.length / 8) * 8;
  if (headerLength > MAX_HEADER_BYTES) {
    throw new RangeError(`${where}: expected a header of at most ${MAX_HEADER_BYTES} bytes (readers refuse larger ones), got ${headerLength}`);
  }
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(header, 8);
  out.fill(0x20, 8 + header.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const e of sorted) {
    const bytes = new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.byteLength);
    out.set(bytes, at);
    if (!hostIsLittleEndian()) swapBytes(out.subarray(at, at + bytes.length), DTYPES[e.dtype].size);
    at += bytes.length;
  }
  return out;
}

/**
 * Writes tensors in the safetensors format.
 *
 * Tensors are laid out by item size (largest first), then by name, which keeps each one aligned to its item
 * size; the header lists `__metadata__` first (when given), then the tensors in data order.
 * @param tensors - name -> `{ data, shape, dtype? }` (data in C order; `dtype: 'BOOL'` marks a Uint8Array of
 *   0/1 as booleans), or a bare typed array (shape `[length]`). Names: any non-empty string but `__metadata__`.
 * @param metadata - optional string -> string record, stored as the header's `__metadata__`.
 * @returns the file's bytes.
 * @throws TypeError for a tensor that is not a supported typed array (Uint8ClampedArray included: it would
 *   come back as a Uint8Array) or `{ data, shape }`, or a metadata value that is not a string; RangeError
 *   for an empty or reserved name, a shape that does not match the data's length, a dtype that does not
 *   match the data, or BOOL data other than 0/1.
 * @example
 * const bytes = encodeSafetensors({ w: { data: new Float32Array([1, 2, 3, 4]), shape: [2, 2] } }, { step: '3' });
 * decodeSafetensors(bytes).tensors.w;   // { data: Float32Array [1, 2, 3, 4], shape: [2, 2], dtype: 'F32' }
 */
export function encodeSafetensors(
  tensors: Record<string, Tensor | TypedArray>,
  metadata?: Record<string, string>,
): Uint8Array {
  const where = 'encodeSafetensors';
  if (!isPlainObject(tensors)) throw new TypeError(`${where}: expected tensors to be a record of tensors, got ${describe(tensors)}`);
  const entries = Object.keys(tensors).map((name): Entry => {
    checkName(where, name);
    const { dtype, shape, data } = checkTensor(where, propertyPath('tensors', name), tensors[name]);
    return { name, dtype, shape, data };
  });
  return write(where, entries, checkMetadata(where, metadata));
}

/** Reads and checks a file; tensors in data order. */
function read(where: string, bytes: Uint8Array): { tensors: Array<DecodedTensor & { name: string }>; metadata: Record<string, string> } {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${where}: expected bytes to be a Uint8Array, got ${describe(bytes)}`);
  const fail = (what: string) => new Error(`${where}: not a valid safetensors file: ${what}`);
  if (bytes.length < 8) throw fail(`expected at least 8 bytes (the header length), got ${bytes.length}`);
  const declared = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) throw fail(`header length ${declared} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const headerLength = Number(declared);
  if (8 + headerLength > bytes.length) throw fail(`header length ${headerLength} runs past the end of the ${bytes.length}-byte file (truncated?)`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (cause) {
    throw new Error(`${where}: not a valid safetensors file: the ${headerLength}-byte header is not UTF-8 JSON (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
  if (!isPlainObject(header)) throw fail(`expected the header to be a JSON object, got ${describe(header)}`);

  const dataLength = bytes.length - 8 - headerLength;
  const metadata: Record<string, string> = {};
  const found: Array<{ name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }> = [];
  const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  for (const name of Object.keys(header)) {
    const info = header[name];
    if (name === '__metadata__') {
      if (!isPlainObject(info)) throw fail(`expected __metadata__ to be an object of strings, got ${describe(info)}`);
      for (const key of Object.keys(info)) {
        if (typeof info[key] !== 'string') throw fail(`expected __metadata__[${JSON.stringify(key)}] to be a string, got ${describe(info[key])}`);
        setOwn(metadata, key, info[key]);
      }
      continue;
    }
    const at = `tensor ${JSON.stringify(name)}`;
    if (!isPlainObject(info)) throw fail(`expected ${at} to be described by an object, got ${describe(info)}`);
    if (!isDtype(info.dtype)) {
      throw fail(`${at} has dtype ${describe(info.dtype)}, which this reader does not support (supported: ${DTYPE_NAMES.join(', ')})`);
    }
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every(isCount)) throw fail(`expected ${at} to have a shape of non-negative integers, got ${JSON.stringify(shape)}`);
    const offsets = info.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
      throw fail(`expected ${at} to have data_offsets [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataLength) throw fail(`${at} has data_offsets [${begin}, ${end}] past the end of the ${dataLength}-byte data section (truncated?)`);
    // A zero in the shape is checked first: the product of the other axes could overflow to Infinity.
    const count = shape.includes(0) ? 0 : shape.reduce((p: number, n: number) => p * n, 1);
    const size = DTYPES[info.dtype].size;
    if (count * size !== end - begin) {
      throw fail(`${at} has shape [${shape.join(', ')}] of ${info.dtype} (${count * size} bytes) but data_offsets [${begin}, ${end}] (${end - begin} bytes)`);
    }
    found.push({ name, dtype: info.dtype, shape, begin, end });
  }

  // The reference reader insists on tensors that tile the data section exactly: no gap, no overlap, no tail.
  found.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous = '';
  for (const t of found) {
    if (t.begin < cursor) throw fail(`tensor ${JSON.stringify(t.name)} at [${t.begin}, ${t.end}) overlaps tensor ${JSON.stringify(previous)}, which ends at ${cursor}`);
    if (t.begin > cursor) throw fail(`gap of ${t.begin - cursor} bytes before tensor ${JSON.stringify(t.name)} at [${t.begin}, ${t.end})`);
    cursor = t.end;
    previous = t.name;
  }
  if (cursor !== dataLength) throw fail(`${dataLength - cursor} bytes after the last tensor (tensors end at ${cursor} of ${dataLength})`);

  const start = 8 + headerLength;
  const tensors = found.map(({ name, dtype, shape, begin, end }) => {
    // A fresh buffer per tensor: aligned whatever the file's offsets, and independent of `bytes`.
    // Uint8Array.prototype.slice copies even for a Node Buffer, whose own slice() is a view into a shared pool.
    const copy = Uint8Array.prototype.slice.call(bytes, start + begin, start + end);
    if (!hostIsLittleEndian()) swapBytes(copy, DTYPES[dtype].size);
    return { name, data: new DTYPES[dtype].array(copy.buffer), shape, dtype };
  });
  return { tensors, metadata };
}

/**
 * Reads a safetensors file, checking its structure as the reference reader does.
 * @param bytes - the whole file.
 * @returns the tensors (fresh, aligned copies; in data order; BOOL as a Uint8Array with `dtype: 'BOOL'`) and
 *   the header's `__metadata__` (`{}` when absent).
 * @throws TypeError if bytes is not a Uint8Array; Error for a damaged or unsupported file: fewer than 8
 *   bytes, a header length over 100 MB or past the end of the file, a header that is not UTF-8 JSON, an
 *   unsupported dtype (F16, BF16, ...), offsets out of range, overlapping or leaving gaps or trailing bytes,
 *   or a byte length other than product(shape) * itemsize.
 * @example
 * const { tensors, metadata } = decodeSafetensors(bytes);
 * tensors['layer1.weight'].data;   // Float32Array
 */
export function decodeSafetensors(bytes: Uint8Array): { tensors: Record<string, DecodedTensor>; metadata: Record<string, string> } {
  const { tensors: list, metadata } = read('decodeSafetensors', bytes);
  const tensors: Record<string, DecodedTensor> = {};
  for (const { name, ...tensor } of list) setOwn(tensors, name, tensor);
  return { tensors, metadata };
}

// ---------------------------------------------------------------------------------------------------------
// Checkpoints
//
// A checkpoint (or a bare state dict) is a tree of plain objects and arrays whose leaves are tensors or JSON
// values. Each tensor is stored under the dotted path that leads to it (`model_state_dict.layer1.weight`,
// `optimizer_state_dict.state.0.exp_avg`), which is what PyTorch calls the entries of a state dict; a flat
// state dict keeps its own names (`'layer1.weight'`). Should two paths give the same name (a key `'a.b'` beside
// a key `a` holding `b`), the later one gets a suffix `~1`, `~2`...: the structure below records the name
// of every tensor, so any unique names round-trip.
//
// The tree itself is kept in `__metadata__[CHECKPOINT_STRUCTURE_KEY]` as JSON: a node per object, array or
// tensor on the way to a tensor, and subtrees without tensors inline as JSON. A top-level field without
// tensors (epoch, loss, a config) is stored as JSON text under its own `__metadata__` key instead, so that it
// is readable without this library.
//
// PyTorch users read these files with `safetensors.torch.load_file(path)`, which gives the flat dict of dotted
// names (`{k.removeprefix('model_state_dict.'): v ...}` is then a state dict for `model.load_state_dict`), and
// `safe_open(path, 'pt').metadata()` for epoch and loss. Nested optimizer state, whose `state` is keyed by
// parameter index (integer keys in PyTorch, "0", "1" here), round-trips through the JSON structure; a Python
// reader rebuilds it from the structure and the tensors' names.

type TensorForm = 'array' | 'nd' | 'nd+dtype';
type StructureNode =
  | { tensor: string; form: TensorForm }
  | { object: Record<string, StructureNode> }
  | { array: StructureNode[] }
  | { json: JsonValue }
  | { meta: string };

type Flattened = { root: Record<string, StructureNode>; entries: Entry[] };

/**
 * Walks a checkpoint or state dict, checking every part and naming tensors by their dotted path.
 * `mode` 'record' accepts tensors only (and needs at least one); 'checkpoint' needs a `model_state_dict`
 * of tensors only, anything storable elsewhere; 'auto' picks by the presence of `model_state_dict`.
 */
function flatten(where: string, value: unknown, mode: 'record' | 'checkpoint' | 'auto'): Flattened {
  const expected = 'a record of tensors or a checkpoint { model_state_dict, optimizer_state_dict?, epoch?, loss? }';
  if (!isPlainObject(value)) throw new TypeError(`${where}: expected ${expected}, got ${describe(value)}`);
  const checkpoint = mode === 'checkpoint' || (mode === 'auto' && Object.hasOwn(value, 'model_state_dict'));
  if (checkpoint && !isPlainObject(value.model_state_dict)) {
    throw new TypeError(`${where}: expected value.model_state_dict to be a record of tensors, got ${describe(value.model_state_dict)}`);
  }
  const entries: Entry[] = [];
  const names = new Set<string>();
  const ancestors: object[] = [];

  const unique = (base: string): string => {
    let name = base;
    for (let i = 1; name === '' || name === '__metadata__' || names.has(name); i++) name = `${base}~${i}`;
    names.add(name);
    return name;
  };

  const walk = (node: unknown, path: string, segments: string[], tensorsOnly: boolean): StructureNode => {
    if (looksLikeTensor(node)) {
      const { form, ...tensor } = checkTensor(where, path, node);
      const name = unique(segments.join('.'));
      entries.push({ name, ...tensor });
      return { tensor: name, form };
    }
    const problem = jsonLeafProblem(node);
    if (problem !== undefined) throw new TypeError(`${where}: expected a tensor or plain JSON at ${path}, got ${problem}`);
    if (tensorsOnly && !isPlainObject(node)) {
      const hint = mode === 'auto' && !checkpoint ? ' (fields other than tensors need a checkpoint with a model_state_dict)' : '';
      throw new TypeError(`${where}: expected a tensor or a record of tensors at ${path}, got ${describe(node)}${hint}`);
    }
    if (node === null || typeof node !== 'object') return { json: node as JsonValue };
    if (ancestors.includes(node)) throw new TypeError(`${where}: expected a tree at ${path}, got a cycle (it refers back to an enclosing object)`);
    ancestors.push(node);
    try {
      if (Array.isArray(node)) {
        const items = Array.from(node, (item, i) => {
          if (!(i in node)) throw new TypeError(`${where}: expected plain JSON at ${path}[${i}], got an empty array slot`);
          return walk(item, `${path}[${i}]`, [...segments, String(i)], tensorsOnly);
        });
        return items.every((n) => 'json' in n) ? { json: node as JsonValue } : { array: items };
      }
      const fields: Record<string, StructureNode> = {};
      let plain = true;
      for (const key of Object.keys(node)) {
        const child = walk((node as Record<string, unknown>)[key], propertyPath(path, key), [...segments, key], tensorsOnly);
        plain &&= 'json' in child;
        setOwn(fields, key, child);
      }
      return plain ? { json: node as JsonValue } : { object: fields };
    } finally {
      ancestors.pop();
    }
  };

  const root: Record<string, StructureNode> = {};
  ancestors.push(value);
  for (const key of Object.keys(value)) {
    setOwn(root, key, walk(value[key], propertyPath('value', key), [key], !checkpoint || key === 'model_state_dict'));
  }
  if (!checkpoint && entries.length === 0) throw new TypeError(`${where}: expected ${expected}, got no tensors`);
  return { root, entries };
}

/**
 * Whether `value` is a state dict that {@link encodeCheckpoint} accepts: a plain object whose leaves, at any
 * depth, are all tensors (typed arrays or `{ data, shape, dtype? }` with consistent shapes), at least one.
 * @param value - any value.
 * @returns true or false; never throws.
 * @example
 * isTensorRecord({ 'fc.weight': new Float32Array(6) });   // true
 * isTensorRecord({ fc: { weight: new Float32Array(6) } }); // true
 * isTensorRecord({ epoch: 3 });                           // false
 */
export function isTensorRecord(value: unknown): value is TensorRecord {
  try {
    flatten('isTensorRecord', value, 'record');
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `value` is a checkpoint that {@link encodeCheckpoint} accepts: a plain object with a
 * `model_state_dict` of tensors, every other field a tensor, a JSON value, or arrays / plain objects of those.
 * @param value - any value.
 * @returns true or false; never throws.
 * @example
 * isCheckpoint({ model_state_dict: { w: new Float32Array(2) }, epoch: 3, loss: 0.25 });   // true
 * isCheckpoint({ w: new Float32Array(2) });                                                // false
 */
export function isCheckpoint(value: unknown): value is Checkpoint {
  try {
    flatten('isCheckpoint', value, 'checkpoint');
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes a checkpoint or a state dict as one safetensors file; {@link decodeCheckpoint} gives back an object
 * of the same shape (bare typed arrays and `{ data, shape, dtype? }` alike, each typed array kind preserved).
 * @param value - a state dict (tensors only, flat or nested) or a checkpoint `{ model_state_dict,
 *   optimizer_state_dict?, epoch?, loss?, ... }` whose other fields hold tensors, JSON values, or arrays /
 *   plain objects of both. Like {@link encodeJson}, undefined and non-finite numbers are refused rather than
 *   dropped or nulled (a NaN loss can be stored as a 0-d tensor); -0 outside tensors comes back as 0.
 * @param as - 'record' or 'checkpoint' to say which `value` is (see {@link isTensorRecord}, {@link isCheckpoint});
 *   by default a checkpoint when it has a `model_state_dict` field.
 * @param extra - more `__metadata__` fields (string values), for what the file says about itself.
 * @returns the file's bytes.
 * @throws TypeError naming the path of the first offending part (`value.optimizer_state_dict.param_groups[0].lr`):
 *   not a plain object, a non-tensor field in a state dict, a value that is neither a tensor nor JSON, a
 *   cycle; RangeError for an inconsistent tensor (see {@link encodeSafetensors}).
 * @example
 * const bytes = encodeCheckpoint({
 *   model_state_dict: { fc: { weight: { data: new Float32Array(6), shape: [2, 3] }, bias: new Float32Array(2) } },
 *   optimizer_state_dict: { state: { 0: { step: 10, exp_avg: new Float32Array(6) } }, param_groups: [{ lr: 1e-3, params: [0] }] },
 *   epoch: 10,
 *   loss: 0.031,
 * });
 * // tensors: model_state_dict.fc.weight, model_state_dict.fc.bias, optimizer_state_dict.state.0.exp_avg
 * // __metadata__: { epoch: '10', loss: '0.031', 'dase_cache.structure': '{...}' }
 */
export function encodeCheckpoint(value: Checkpoint | TensorRecord, as: 'record' | 'checkpoint' | 'auto' = 'auto', extra: Record<string, string> = {}): Uint8Array {
  const where = 'encodeCheckpoint';
  if (as !== 'record' && as !== 'checkpoint' && as !== 'auto') {
    throw new RangeError(`${where}: expected as to be "record", "checkpoint" or "auto", got ${describe(as)}`);
  }
  const { root, entries } = flatten(where, value, as);
  const metadata: Record<string, string> = {};
  for (const key of Object.keys(root)) {
    const node = root[key];
    if ('json' in node && !key.startsWith('dase_cache.')) {
      setOwn(metadata, key, JSON.stringify(node.json));
      setOwn(root, key, { meta: key });
    }
  }
  setOwn(metadata, CHECKPOINT_STRUCTURE_KEY, JSON.stringify({ version: 1, root: { object: root } }));
  for (const key of Object.keys(extra)) setOwn(metadata, key, extra[key]);
  return write(where, entries, checkMetadata(where, metadata));
}

/**
 * Reads a file written by {@link encodeCheckpoint} back into the object that was saved. A safetensors file
 * written elsewhere (no structure in its metadata) comes back as its flat state dict of `{ data, shape, dtype }`.
 * @param bytes - the whole file.
 * @returns the checkpoint or state dict.
 * @throws TypeError if bytes is not a Uint8Array; Error for a damaged file (see {@link decodeSafetensors}), a
 *   structure that is not valid, or one that does not account for exactly the file's tensors.
 * @example
 * const checkpoint = decodeCheckpoint(bytes) as Checkpoint;
 * checkpoint.model_state_dict.fc;   // { weight: { data: Float32Array, shape: [2, 3] }, bias: Float32Array }
 */
export function decodeCheckpoint(bytes: Uint8Array): Checkpoint | TensorRecord {
  const where = 'decodeCheckpoint';
  const { tensors: list, metadata } = read(where, bytes);
  const tensors = new Map(list.map((t) => [t.name, t]));
  if (!Object.hasOwn(metadata, CHECKPOINT_STRUCTURE_KEY)) {
    const flat: Record<string, DecodedTensor> = {};
    for (const { name, ...tensor } of list) setOwn(flat, name, tensor);
    return flat;
  }
  const text = metadata[CHECKPOINT_STRUCTURE_KEY];
  const fail = (what: string, cause?: unknown) =>
    new Error(`${where}: damaged checkpoint structure (__metadata__[${JSON.stringify(CHECKPOINT_STRUCTURE_KEY)}]): ${what}`, cause === undefined ? undefined : { cause });
  let structure: unknown;
  try {
    structure = JSON.parse(text);
  } catch (cause) {
    throw fail('not valid JSON', cause);
  }
  if (!isPlainObject(structure) || structure.version !== 1) {
    throw fail(`expected { version: 1, root }, got ${isPlainObject(structure) ? `version ${describe(structure.version)}` : describe(structure)}`);
  }

  const used = new Set<string>();
  const build = (node: unknown, path: string): unknown => {
    if (!isPlainObject(node)) throw fail(`expected a node at ${path}, got ${describe(node)}`);
    if (typeof node.tensor === 'string') {
      const t = tensors.get(node.tensor);
      if (t === undefined) throw fail(`${path} names tensor ${JSON.stringify(node.tensor)}, which the file does not hold`);
      if (used.has(node.tensor)) throw fail(`tensor ${JSON.stringify(node.tensor)} is named twice`);
      used.add(node.tensor);
      if (node.form === 'array') return t.data;
      if (node.form === 'nd') return { data: t.data, shape: t.shape };
      if (node.form === 'nd+dtype') return { data: t.data, shape: t.shape, dtype: t.dtype };
      throw fail(`unknown tensor form ${describe(node.form)} at ${path}`);
    }
    if (isPlainObject(node.object)) {
      const fields = node.object;
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(fields)) setOwn(out, key, build(fields[key], propertyPath(path, key)));
      return out;
    }
    if (Array.isArray(node.array)) return node.array.map((item, i) => build(item, `${path}[${i}]`));
    if (Object.hasOwn(node, 'json')) return node.json;
    if (typeof node.meta === 'string') {
      if (!Object.hasOwn(metadata, node.meta)) throw fail(`${path} refers to metadata ${JSON.stringify(node.meta)}, which the file does not hold`);
      try {
        return JSON.parse(metadata[node.meta]);
      } catch (cause) {
        throw fail(`metadata ${JSON.stringify(node.meta)} for ${path} is not valid JSON`, cause);
      }
    }
    throw fail(`unknown node at ${path}: ${JSON.stringify(node).slice(0, 80)}`);
  };

  const root = structure.root;
  if (!isPlainObject(root) || !isPlainObject(root.object)) throw fail(`expected the root to be an object node, got ${describe(root)}`);
  const value = build(root, 'value') as Checkpoint | TensorRecord;
  for (const name of tensors.keys()) if (!used.has(name)) throw fail(`tensor ${JSON.stringify(name)} is not part of the structure`);
  return value;
}
