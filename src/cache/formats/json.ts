// The cache's .json codec: plain JSON values to UTF-8 bytes and back, refusing (before anything is written)
// every value that JSON.stringify would silently drop, change or turn into null.

import { describe } from '../../_args.js';

/** A value that survives JSON.stringify / JSON.parse unchanged (up to -0, which comes back as 0). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Where a value stops being plain JSON: the path of the offending part and what it is. */
export type JsonProblem = { path: string; got: string };

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * The path of a property as the user would write it to reach it, for error messages.
 * @param parent - the path so far (`value`, `value.a[3]`).
 * @param key - the property's name.
 * @returns `parent.key` for identifier-like keys, else `parent["key"]`.
 * @example
 * propertyPath('value.a', 'b');     // 'value.a.b'
 * propertyPath('value', 'a b');     // 'value["a b"]'
 */
export function propertyPath(parent: string, key: string): string {
  return IDENTIFIER.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

/**
 * Whether a value is a `{}`-style object: prototype Object.prototype (of any realm) or null. Class instances
 * (Date, Map, typed arrays, user classes) have a longer prototype chain.
 * @param value - any value.
 * @returns true for plain objects, false for arrays, class instances and primitives.
 * @example
 * isPlainObject({ a: 1 });      // true
 * isPlainObject(new Date());    // false
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/**
 * What a single value is, if it cannot stand in JSON by itself, ignoring its children (nor holes, nor cycles).
 * Shared with the safetensors checkpoint layer, which stores its non-tensor fields as JSON.
 * @param value - any value.
 * @returns a description for an error message (`'a function'`, `'NaN (...)'`), or undefined for strings,
 *   booleans, finite numbers, null, arrays and plain objects without toJSON or symbol keys.
 * @example
 * jsonLeafProblem(new Map());   // 'an instance of Map (only plain objects and arrays are JSON)'
 */
export function jsonLeafProblem(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      // NaN and ±Infinity would be written as null.
      return Number.isFinite(value) ? undefined : `${describe(value)} (JSON has no non-finite numbers; JSON.stringify would write null)`;
    case 'undefined':
      // Rejected rather than dropped: a key that vanishes or an array entry that turns into null is a silent change.
      return 'undefined (JSON.stringify would drop it or write null)';
    case 'bigint':
      return `a BigInt (${value}n; store it as a string, or in a BigInt64Array in .npz)`;
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
  }
  if (value === null || Array.isArray(value)) return undefined;
  const object = value as object;
  if (ArrayBuffer.isView(object)) return `a ${object.constructor.name} (typed arrays belong in .npz)`;
  if (!isPlainObject(object)) {
    const name = (object as { constructor?: { name?: unknown } }).constructor?.name;
    return `an instance of ${typeof name === 'string' && name !== '' ? name : 'a class'} (only plain objects and arrays are JSON)`;
  }
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') {
    return 'an object with a toJSON method (its JSON would not round-trip)';
  }
  if (Object.getOwnPropertySymbols(object).length > 0) return 'an object with symbol keys (JSON.stringify would drop them)';
  return undefined;
}

function problemIn(value: unknown, path: string, ancestors: object[]): JsonProblem | undefined {
  const leaf = jsonLeafProblem(value);
  if (leaf !== undefined) return { path, got: leaf };
  if (value === null || typeof value !== 'object') return undefined;
  // Only ancestors make a cycle: the same object reached twice along different branches is fine in JSON.
  const at = ancestors.indexOf(value);
  if (at >= 0) return { path, got: `a cycle (it refers back to an enclosing object)` };
  ancestors.push(value);
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        // A hole reads as undefined but `in` tells it apart, for a clearer message.
        if (!(i in value)) return { path: `${path}[${i}]`, got: 'an empty array slot (JSON.stringify would write null)' };
        const found = problemIn(value[i], `${path}[${i}]`, ancestors);
        if (found !== undefined) return found;
      }
    } else {
      for (const key of Object.keys(value)) {
        const found = problemIn((value as Record<string, unknown>)[key], propertyPath(path, key), ancestors);
        if (found !== undefined) return found;
      }
    }
  } finally {
    ancestors.pop();
  }
  return undefined;
}

/**
 * The first part of `value` that is not plain JSON (depth first, in key order).
 * @param value - any value.
 * @param root - the name the path starts with; default `value`.
 * @returns the offending part's path and description, or undefined when the whole value is plain JSON.
 * @example
 * findJsonProblem({ a: [1, undefined] });   // { path: 'value.a[1]', got: 'undefined (...)' }
 */
export function findJsonProblem(value: unknown, root = 'value'): JsonProblem | undefined {
  return problemIn(value, root, []);
}

/**
 * Checks that `value` is plain JSON.
 * @param where - the caller's name, for the message.
 * @param value - any value.
 * @param root - the name the path starts with; default `value`.
 * @throws TypeError `where: expected plain JSON at <path>, got <what>` for the problem {@link findJsonProblem} finds.
 * @example
 * assertJson('save', { n: 1n });   // TypeError: save: expected plain JSON at value.n, got a BigInt (1n; ...)
 */
function assertJson(where: string, value: unknown, root = 'value'): asserts value is JsonValue {
  const problem = findJsonProblem(value, root);
  if (problem !== undefined) throw new TypeError(`${where}: expected plain JSON at ${problem.path}, got ${problem.got}`);
}

/**
 * Whether `value` is plain JSON that {@link encodeJson} accepts; never throws.
 * @param value - any value.
 * @returns true for null, booleans, finite numbers, strings, and arrays / plain objects of those (no cycles).
 * @example
 * isPlainJson({ a: [1, 'x', null] });   // true
 * isPlainJson({ when: new Date() });    // false
 */
export function isPlainJson(value: unknown): value is JsonValue {
  try {
    return findJsonProblem(value) === undefined;
  } catch {
    // A throwing getter or a proxy trap, or a structure deeper than the stack.
    return false;
  }
}

/**
 * UTF-8 JSON text of a plain JSON value, checked whole before any byte is produced.
 * @param value - null, booleans, finite numbers, strings, arrays and plain objects of those.
 * @param where - the caller's name, for error messages (e.g. `cache.save`).
 * @returns compact JSON as UTF-8 bytes (lone surrogates escaped as `\udxxx`, so the bytes are valid UTF-8).
 * @throws TypeError naming the path of the first offending part (`value.a.b[3]`): a cycle, a function, a
 *   symbol, a BigInt, undefined (as a property value or an array entry: rejected rather than dropped), an
 *   array hole, NaN or ±Infinity, an instance of a class (Date, Map, Set, typed arrays...), an object with
 *   a toJSON method or with symbol keys.
 * @example
 * decodeJson(encodeJson({ steps: [1, 2] }, 'save'));   // { steps: [1, 2] }
 * encodeJson({ a: { b: [0, 1, 2, NaN] } }, 'save');    // TypeError: save: expected plain JSON at value.a.b[3], got NaN (...)
 */
export function encodeJson(value: unknown, where: string): Uint8Array {
  assertJson(where, value);
  return jsonBytes(value);
}

/** The UTF-8 JSON of a value already known to be plain JSON (see {@link isPlainJson}). */
export function jsonBytes(value: JsonValue): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/**
 * Parses UTF-8 JSON bytes (a leading byte-order mark is ignored).
 * @param bytes - the file's content.
 * @param where - the caller's name, for error messages; default `decodeJson`.
 * @returns the parsed value.
 * @throws TypeError if bytes is not a Uint8Array; Error (with the parser's error as `cause`) if the bytes
 *   are not valid UTF-8 or not valid JSON.
 * @example
 * decodeJson(new TextEncoder().encode('{"a":1}'));   // { a: 1 }
 */
export function decodeJson(bytes: Uint8Array, where = 'decodeJson'): JsonValue {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${where}: expected bytes to be a Uint8Array, got ${describe(bytes)}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new Error(`${where}: expected UTF-8 JSON, got bytes that are not valid UTF-8`, { cause });
  }
  try {
    return JSON.parse(text) as JsonValue;
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new Error(`${where}: malformed JSON in ${bytes.length} bytes (${detail})`, { cause });
  }
}
