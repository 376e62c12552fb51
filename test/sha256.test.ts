import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checksum, createSha256, sha256, sha256Hex } from '../src/node.js';
import { checksum as browserChecksum } from '../src/index.js';
import { lcg, nodeSha256Hex as native } from './fixtures/util.js';

/** Each byte: the top 8 bits of the generator's next state. */
function randomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  const next = lcg(seed);
  for (let i = 0; i < length; i++) out[i] = next() >>> 24;
  return out;
}

describe('sha256', () => {
  // FIPS 180-4 / NIST CSRC example vectors.
  it.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
    ['abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu',
      'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1'],
    ['a'.repeat(1_000_000), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0'],
  ])('NIST vector %#', (message, digest) => {
    expect(sha256Hex(message)).toBe(digest);
    expect(createSha256().update(message).digestHex()).toBe(digest);
  });

  it('equals node:crypto on every length 0..20000 of random data', () => {
    const data = randomBytes(20_001, 1);
    for (let length = 0; length <= 20_000; length++) {
      const part = data.subarray(0, length);
      if (sha256Hex(part) !== native(part)) throw new Error(`length ${length} differs`);
    }
  });

  it('equals node:crypto on a 64 MiB buffer, one-shot and streamed', () => {
    const big = randomBytes(64 * 1024 * 1024, 2);
    const expected = native(big);
    expect(sha256Hex(big)).toBe(expected);
    const h = createSha256();
    for (let at = 0; at < big.length; at += 10_000_019) h.update(big.subarray(at, at + 10_000_019));
    expect(h.digestHex()).toBe(expected);
  });

  it('gives the same digest for every split of a message into two chunks', () => {
    const data = randomBytes(300, 3);
    const expected = native(data);
    for (let cut = 0; cut <= data.length; cut++) {
      const digest = createSha256().update(data.subarray(0, cut)).update(data.subarray(cut)).digestHex();
      if (digest !== expected) throw new Error(`split at ${cut} differs`);
    }
  });

  it('gives the same digest for every split around the staging-buffer and block boundaries', () => {
    const data = randomBytes(3 * 65536 + 200, 4);
    const expected = native(data);
    const cuts = [63, 64, 65, 127, 128, 65472, 65535, 65536, 65537, 65600, 131071, 131072, 131073];
    for (const a of cuts) for (const b of cuts) {
      if (b <= a) continue;
      const digest = createSha256().update(data.subarray(0, a)).update(data.subarray(a, b)).update(data.subarray(b)).digestHex();
      if (digest !== expected) throw new Error(`splits at ${a}, ${b} differ`);
    }
  });

  it('gives the same digest for random chunkings, including empty chunks', () => {
    const data = randomBytes(200_000, 5);
    const expected = native(data);
    const next = lcg(9);
    for (let trial = 0; trial < 50; trial++) {
      const h = createSha256();
      for (let at = 0; at < data.length;) {
        const s = next();
        const size = trial % 2 === 0 ? s % 200 : s % 70_000;
        h.update(data.subarray(at, at + size));
        at += size;
      }
      expect(h.digestHex()).toBe(expected);
    }
  });

  it('interleaves independent hashers', () => {
    const a = createSha256(), b = createSha256();
    const x = randomBytes(100_000, 6), y = randomBytes(70_001, 7);
    for (let at = 0; at < 100_000; at += 999) { a.update(x.subarray(at, at + 999)); b.update(y.subarray(at, at + 999)); }
    expect(a.digestHex()).toBe(native(x));
    expect(b.digestHex()).toBe(native(y));
  });

  it('hashes the bytes of any typed array, ArrayBuffer, DataView and UTF-8 strings', () => {
    const f = new Float64Array([1.5, -2, NaN]);
    const bytes = new Uint8Array(f.buffer);
    expect(sha256Hex(f)).toBe(native(bytes));
    expect(sha256Hex(f.buffer)).toBe(native(bytes));
    expect(sha256Hex(new DataView(f.buffer, 8, 8))).toBe(native(bytes.subarray(8, 16)));
    expect(sha256Hex(f.subarray(1))).toBe(native(bytes.subarray(8)));
    expect(sha256Hex('Grünwald–Letnikov ∂^α')).toBe(native('Grünwald–Letnikov ∂^α'));
    expect(sha256(new Uint8Array(0))).toEqual(new Uint8Array(createHash('sha256').digest()));
  });

  it('checksum gives the same hex in the Node build (node:crypto) and the browser build (WASM)', () => {
    for (const length of [0, 1, 64, 100_000]) {
      const data = randomBytes(length, length);
      expect(checksum(data)).toBe(native(data));
      expect(browserChecksum(data)).toBe(native(data));
    }
  });

  it('rejects other inputs and reuse after digest', () => {
    expect(() => sha256(123 as unknown as string)).toThrow(new TypeError('sha256: expected a Uint8Array, ArrayBufferView, ArrayBuffer or string, got 123'));
    expect(() => sha256(null as unknown as string)).toThrow(TypeError);
    expect(() => sha256([1, 2] as unknown as Uint8Array)).toThrow(/got an array of length 2/);
    expect(() => createSha256().update({} as unknown as string)).toThrow(TypeError);
    const h = createSha256().update('x');
    h.digest();
    expect(() => h.update('y')).toThrow(/already finished/);
    expect(() => h.digest()).toThrow(/already finished/);
    expect(sha256Hex('abc')).toBe(native('abc'));
  });
});

describe('digestHex (the browser cache\'s asynchronous checksum)', () => {
  it('equals node:crypto on both sides of the crypto.subtle threshold, views of larger buffers included', async () => {
    const { digestHex } = await import('../src/platform/browser.js');
    const big = new Uint8Array(1 << 20).map((_, i) => (i * 2654435761) >>> 24);
    for (const n of [0, 1, 16383, 16384, 16385, 100_000, 1 << 20]) {
      expect(await digestHex(big.subarray(0, n))).toBe(native(big.subarray(0, n)));
      expect(await digestHex(big.subarray(7, 7 + Math.min(n, big.length - 7)))).toBe(native(big.subarray(7, 7 + Math.min(n, big.length - 7))));
    }
  });
});
