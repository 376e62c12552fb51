// The WASM CRC-32 against node:zlib's (native), on both kernel builds: sizes around the 16-byte blocks and the
// 64 KiB staging buffer, continuation, unaligned views, bad arguments, and the .npz files it checksums.
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../src/kernels/crc32.js';
import { crc32Js } from '../src/cache/formats/zip.js';
import { encodeNpz } from '../src/cache/formats/npz.js';
import { kernelInfo, kernels } from '../src/wasm/loader.js';
import { lcg } from './fixtures/util.js';

const STAGE = 1 << 16;

/** Each byte: the top 8 bits of the generator's next state. */
function randomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  const next = lcg(seed);
  for (let i = 0; i < length; i++) out[i] = next() >>> 24;
  return out;
}

const ascii = (text: string) => new TextEncoder().encode(text);

describe(`crc32 (${process.env.DASE_WASM_BUILD} build)`, () => {
  it('runs on the build of this test project', () => {
    expect(kernelInfo().build).toBe(process.env.DASE_WASM_BUILD);
  });

  // The CRC-32 check value of the Rocksoft model (CRC-32/ISO-HDLC) and two well-known strings.
  it.each([
    ['', 0],
    ['a', 0xe8b7be43],
    ['123456789', 0xcbf43926],
    ['The quick brown fox jumps over the lazy dog', 0x414fa339],
  ])('gives the published value for %j', (text, expected) => {
    expect(crc32(ascii(text))).toBe(expected);
  });

  it('equals node:zlib on every length 0..1100 of random data, from 0 and from a previous value', () => {
    const data = randomBytes(1100, 1);
    for (let length = 0; length <= 1100; length++) {
      const part = data.subarray(0, length);
      if (crc32(part) !== zlibCrc32(part)) throw new Error(`length ${length} differs`);
      if (crc32(part, 0xdeadbeef) !== zlibCrc32(part, 0xdeadbeef)) throw new Error(`length ${length} from 0xdeadbeef differs`);
    }
  });

  it.each([0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 4095, 4096, 4097, STAGE - 1, STAGE, STAGE + 1, STAGE + 15, STAGE + 16,
    2 * STAGE - 1, 2 * STAGE, 2 * STAGE + 1, 3 * STAGE + 5, (1 << 20) + 3])('equals node:zlib on %i random bytes', (length) => {
    const data = randomBytes(length, length + 2);
    expect(crc32(data)).toBe(zlibCrc32(data));
    const previous = lcg(length)();
    expect(crc32(data, previous)).toBe(zlibCrc32(data, previous));
  });

  it('equals node:zlib on 8 MB of random data, and the plain-JS fallback too', () => {
    const data = randomBytes(8e6, 3);
    const expected = zlibCrc32(data);
    expect(crc32(data)).toBe(expected);
    expect(crc32Js(data)).toBe(expected);
  });

  it('continues from a previous CRC: crc32(b, crc32(a)) is the CRC of a followed by b, for cuts around blocks and the stage', () => {
    const data = randomBytes(3 * STAGE + 100, 4);
    const whole = zlibCrc32(data);
    const cuts = [0, 1, 15, 16, 17, 1000, STAGE - 1, STAGE, STAGE + 1, 2 * STAGE + 7, data.length - 1, data.length];
    for (const cut of cuts) {
      const got = crc32(data.subarray(cut), crc32(data.subarray(0, cut)));
      if (got !== whole) throw new Error(`cut at ${cut}: ${got} instead of ${whole}`);
    }
    // Many small pieces, as writeZip passes a .npy header and then the array's bytes.
    let crc = 0;
    const next = lcg(5);
    for (let at = 0; at < data.length;) {
      const size = next() % 5000;
      crc = crc32(data.subarray(at, at + size), crc);
      at += size;
    }
    expect(crc).toBe(whole);
  });

  it('reads unaligned views of larger buffers, and Buffers', () => {
    const data = randomBytes(STAGE + 300, 6);
    for (let offset = 0; offset < 16; offset++) {
      for (const length of [0, 1, 17, 100, STAGE + 33]) {
        const view = data.subarray(offset, offset + length);
        if (crc32(view) !== zlibCrc32(view)) throw new Error(`offset ${offset}, length ${length} differs`);
      }
    }
    const doubles = new Float64Array([1.5, -2, NaN, 1e300]);
    const bytes = new Uint8Array(doubles.buffer, 8, 24);
    expect(crc32(bytes)).toBe(zlibCrc32(bytes));
    expect(crc32(Buffer.from(bytes))).toBe(zlibCrc32(bytes));
  });

  it('stages large inputs through a fixed buffer: 1 MiB does not grow WASM memory beyond what 64 KiB needed', () => {
    crc32(randomBytes(STAGE, 7));
    const before = kernels().memory.buffer.byteLength;
    const big = randomBytes((1 << 20) + 3, 8);
    expect(crc32(big)).toBe(zlibCrc32(big));
    expect(kernels().memory.buffer.byteLength).toBe(before);
  });

  it('checksums .npz members exactly as node:zlib does (the browser cache passes it to writeZip)', () => {
    const entries = { x: { data: new Float64Array(randomBytes(80_000, 9).buffer), shape: [10_000] }, y: { data: new Int8Array([1, -2]), shape: [2] } };
    const ours = encodeNpz(entries, { crc32 });
    expect(ours).toEqual(encodeNpz(entries, { crc32: (data, previous) => zlibCrc32(data, previous) }));
    expect(ours).toEqual(encodeNpz(entries));
  });

  it('rejects data that is not a Uint8Array, and a previous value that is not a uint32', () => {
    expect(() => crc32(new Float64Array(2) as unknown as Uint8Array)).toThrow(new TypeError('crc32: expected data to be a Uint8Array, got a Float64Array of length 2'));
    expect(() => crc32(new ArrayBuffer(4) as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => crc32('abc' as unknown as Uint8Array)).toThrow(new TypeError('crc32: expected data to be a Uint8Array, got "abc"'));
    expect(() => crc32(null as unknown as Uint8Array)).toThrow(new TypeError('crc32: expected data to be a Uint8Array, got null'));
    expect(() => crc32(ascii('x'), '1' as unknown as number)).toThrow(new TypeError('crc32: expected previous to be an integer, got "1"'));
    expect(() => crc32(ascii('x'), -1)).toThrow(new RangeError('crc32: expected previous to be an integer in [0, 4294967295], got -1'));
    expect(() => crc32(ascii('x'), 2 ** 32)).toThrow(RangeError);
    expect(() => crc32(ascii('x'), 1.5)).toThrow(RangeError);
    expect(() => crc32(ascii('x'), NaN)).toThrow(RangeError);
    expect(crc32(ascii('x'), 0xffffffff)).toBe(zlibCrc32(ascii('x'), 0xffffffff));
    expect(crc32(new Uint8Array(0), 0x12345678)).toBe(0x12345678);
  });
});
