import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { decodeJson, encodeJson, isPlainJson } from '../src/cache/formats/json.js';

const text = (bytes: Uint8Array) => new TextDecoder('utf-8', { fatal: true }).decode(bytes);
const roundTrip = (value: unknown) => decodeJson(encodeJson(value, 'test'));

describe('encodeJson / decodeJson', () => {
  it('round-trips plain values, nested and at the top level, as compact JSON', () => {
    const values: unknown[] = [
      null, true, false, 0, -1.5, 1e308, 5e-324, Number.MAX_SAFE_INTEGER, '', 'text', [], {},
      { a: [1, 'x', null, { b: [[], {}] }], c: false, 'd e': 2, 0: 'zero' },
      Array.from({ length: 1000 }, (_, i) => i / 7),
    ];
    for (const value of values) expect(roundTrip(value)).toEqual(value);
    expect(text(encodeJson({ a: [1, 'x'], b: { c: null } }, 'test'))).toBe('{"a":[1,"x"],"b":{"c":null}}');
  });

  it('accepts objects without a prototype, objects from another realm, and shared (acyclic) references', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 });
    expect(roundTrip(bare)).toEqual({ a: 1 });
    const foreign = runInNewContext('({ a: [1, { b: "c" }] })') as unknown;
    expect(isPlainJson(foreign)).toBe(true);
    expect(roundTrip(foreign)).toEqual({ a: [1, { b: 'c' }] });
    const shared = { x: 1 };
    expect(roundTrip({ a: shared, b: [shared, shared] })).toEqual({ a: { x: 1 }, b: [{ x: 1 }, { x: 1 }] });
  });

  it('writes valid UTF-8 for any string, lone surrogates and unicode keys included', () => {
    const value = { 'clé 日本': ['héllo', '日本語', '😀', '\u0000\u001f"\\', '\u2028\u2029', '\ud800 lone', 'x\udfff'] };
    const bytes = encodeJson(value, 'test');
    expect(() => text(bytes)).not.toThrow();
    expect(roundTrip(value)).toEqual(value);
    expect([...encodeJson('😀', 'test')]).toEqual([0x22, 0xf0, 0x9f, 0x98, 0x80, 0x22]);
    expect(text(encodeJson('\ud800', 'test'))).toBe('"\\ud800"');
    // A byte-order mark is skipped, as editors on Windows may add one.
    expect(decodeJson(new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{"a":"é"}')]))).toEqual({ a: 'é' });
  });

  it('rejects each non-JSON part with a TypeError naming its path', () => {
    class Point { x = 1; }
    const cycle: Record<string, unknown> = { a: { list: [1] } };
    ((cycle.a as Record<string, unknown>).list as unknown[]).push(cycle.a);
    const cases: Array<[unknown, RegExp]> = [
      [cycle, /at value\.a\.list\[1\], got a cycle/],
      [{ f: () => 1 }, /at value\.f, got a function/],
      [{ list: [1, Symbol('s')] }, /at value\.list\[1\], got a symbol/],
      [{ n: 10n }, /at value\.n, got a BigInt \(10n/],
      [{ a: { b: undefined } }, /at value\.a\.b, got undefined/],
      [{ a: { b: [0, 1, 2, undefined] } }, /at value\.a\.b\[3\], got undefined/],
      [{ a: { b: [0, 1, 2, NaN] } }, /at value\.a\.b\[3\], got NaN \(.*null/],
      [{ x: Infinity }, /at value\.x, got Infinity/],
      [[-Infinity], /at value\[0\], got -Infinity/],
      [{ list: [1, , 3] }, /at value\.list\[1\], got an empty array slot/], // eslint-disable-line no-sparse-arrays
      [{ when: new Date(0) }, /at value\.when, got an instance of Date/],
      [{ m: new Map() }, /at value\.m, got an instance of Map/],
      [{ s: new Set([1]) }, /at value\.s, got an instance of Set/],
      [{ t: new Float64Array(2) }, /at value\.t, got a Float64Array \(typed arrays belong in \.npz\)/],
      [{ p: new Point() }, /at value\.p, got an instance of Point/],
      [{ j: { toJSON: () => 1 } }, /at value\.j, got an object with a toJSON method/],
      [{ k: { [Symbol('k')]: 1 } }, /at value\.k, got an object with symbol keys/],
      [{ 'a b': [{ 0: { c: NaN } }] }, /at value\["a b"\]\[0\]\["0"\]\.c, got NaN/],
      [undefined, /at value, got undefined/],
      [runInNewContext('({ d: new Date(0) })'), /at value\.d, got an instance of Date/],
    ];
    for (const [value, message] of cases) {
      expect(() => encodeJson(value, 'cache.save'), String(message)).toThrow(TypeError);
      expect(() => encodeJson(value, 'cache.save'), String(message)).toThrow(/^cache\.save: expected plain JSON at /);
      expect(() => encodeJson(value, 'cache.save')).toThrow(message);
      expect(isPlainJson(value)).toBe(false);
    }
    expect(() => encodeJson({ a: { b: [0, 1, 2, NaN] } }, 'save')).toThrow(
      new TypeError('save: expected plain JSON at value.a.b[3], got NaN (JSON has no non-finite numbers; JSON.stringify would write null)'),
    );
  });

  it('decodeJson refuses malformed input with a clear Error', () => {
    const bytes = (s: string) => new TextEncoder().encode(s);
    expect(() => decodeJson(bytes('{"a":'))).toThrow(/^decodeJson: malformed JSON in 5 bytes \(/);
    expect(() => decodeJson(new Uint8Array(0))).toThrow(/malformed JSON in 0 bytes/);
    expect(() => decodeJson(bytes('{"a":1} x'), 'cache.load')).toThrow(/^cache\.load: malformed JSON/);
    expect(() => decodeJson(new Uint8Array([0x22, 0xff, 0x22]))).toThrow(/expected UTF-8 JSON, got bytes that are not valid UTF-8/);
    expect(() => decodeJson('{}' as unknown as Uint8Array)).toThrow(TypeError);
    const error = (() => { try { decodeJson(bytes('[1,')); } catch (e) { return e as Error; } })();
    expect(error?.cause).toBeInstanceOf(SyntaxError);
  });
});

describe('isPlainJson', () => {
  it('says yes to plain JSON and no to the rest, without throwing', () => {
    expect(isPlainJson({ a: [1, 'x', null, true] })).toBe(true);
    expect(isPlainJson(3)).toBe(true);
    expect(isPlainJson(new Uint8Array(1))).toBe(false);
    const hostile = { get boom(): number { throw new Error('getter'); } };
    expect(isPlainJson(hostile)).toBe(false);
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(isPlainJson(deep)).toBe(false); // deeper than the stack: no, rather than a RangeError
  });
});
