// A short, JSON-safe look at a stored value for `info`: dtype, shape and first and last values of arrays,
// keys of records and JSON objects, size and first bytes of bytes.

import { isPlainObject } from '../cache/formats/json.js';
import { isTypedArray, npyDescr, type TypedArray } from '../cache/formats/npy.js';

const EDGE = 5;
const FIRST_BYTES = 16;

// JSON has no NaN, Infinity or BigInt: those are written as strings.
function jsonNumber(x: number | bigint): number | string {
  return typeof x === 'bigint' ? x.toString() : Number.isFinite(x) ? x : String(x);
}

/** An array's dtype, shape and its first and last values (all of them when there are at most 10). */
interface ArrayPreview {
  dtype: string;
  shape: number[];
  length: number;
  first: (number | string)[];
  last: (number | string)[];
}

function arrayPreview(data: TypedArray, shape: number[] = [data.length]): ArrayPreview {
  const values = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, i) => jsonNumber(data[from + i]));
  const short = data.length <= 2 * EDGE;
  return {
    dtype: npyDescr(data), shape, length: data.length,
    first: values(0, short ? data.length : EDGE), last: short ? [] : values(data.length - EDGE, data.length),
  };
}

function asArray(value: unknown): { data: TypedArray; shape: number[] } | undefined {
  if (isTypedArray(value)) return { data: value, shape: [value.length] };
  if (isPlainObject(value) && isTypedArray(value.data) && Array.isArray(value.shape)) return { data: value.data, shape: value.shape as number[] };
  return undefined;
}

// Tensors of a (possibly nested) record, by their dotted path, as safetensors names them.
function tensorsOf(value: Record<string, unknown>, prefix = '', out: Record<string, { dtype: string; shape: number[] }> = {}) {
  for (const [name, member] of Object.entries(value)) {
    const array = asArray(member);
    if (array) out[`${prefix}${name}`] = { dtype: npyDescr(array.data), shape: array.shape };
    else if (isPlainObject(member)) tensorsOf(member, `${prefix}${name}.`, out);
  }
  return out;
}

/**
 * A preview of a loaded value, by the kind its index entry records.
 * @param kind - the entry's value.kind.
 * @returns a plain JSON object with `kind` and what suits it.
 * @example preview(new Float64Array([1, 2]), 'array') // { kind: 'array', dtype: '<f8', shape: [2], length: 2, first: [1, 2], last: [] }
 */
export function preview(value: unknown, kind: string): Record<string, unknown> {
  if (kind === 'bytes') {
    const bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : (value as Uint8Array);
    const head = Array.from(bytes.subarray(0, FIRST_BYTES), (b) => b.toString(16).padStart(2, '0')).join(' ');
    return { kind, size: bytes.length, first_bytes: head };
  }
  if (kind === 'csr' && isPlainObject(value) && isTypedArray(value.data)) {
    const { first, last, dtype } = arrayPreview(value.data);
    return { kind, dtype, shape: value.shape, nnz: value.data.length, first, last };
  }
  const array = asArray(value);
  if (array && kind !== 'tensors' && kind !== 'checkpoint') return { kind, ...arrayPreview(array.data, array.shape) };
  if (kind === 'record' && isPlainObject(value)) {
    const members = Object.fromEntries(Object.entries(value).map(([name, m]) => {
      const a = asArray(m);
      return [name, a ? arrayPreview(a.data, a.shape) : null];
    }));
    return { kind, keys: Object.keys(value), members };
  }
  if ((kind === 'tensors' || kind === 'checkpoint') && isPlainObject(value)) {
    return { kind, keys: Object.keys(value), tensors: tensorsOf(value) };
  }
  const text = JSON.stringify(value) ?? String(value);
  return {
    kind, type: value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value,
    ...(isPlainObject(value) ? { keys: Object.keys(value) } : {}),
    ...(Array.isArray(value) ? { length: value.length } : {}),
    text: text.length > 200 ? `${text.slice(0, 200)}…` : text,
  };
}
