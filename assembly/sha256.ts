// SHA-256 (FIPS 180-4) compression and padding. The TypeScript side streams input through a fixed
// buffer and keeps the chaining state between calls, so any number of hashers can be interleaved.

// Round constants.
const K: usize = memory.data<u32>([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
], 16);

// The last 16 words of the message schedule, as a ring (W[t] at t mod 16).
const W: usize = memory.data(64, 16);
// K[t..t+3] + W[t..t+3]: what the next four rounds add.
const KW: usize = memory.data(16, 16);
// Padding block(s) for the final call.
const PAD: usize = memory.data(128, 16);

@inline function bigSigma0(x: u32): u32 { return rotr<u32>(x, 2) ^ rotr<u32>(x, 13) ^ rotr<u32>(x, 22); }
@inline function bigSigma1(x: u32): u32 { return rotr<u32>(x, 6) ^ rotr<u32>(x, 11) ^ rotr<u32>(x, 25); }
@inline function smallSigma0(x: u32): u32 { return rotr<u32>(x, 7) ^ rotr<u32>(x, 18) ^ (x >>> 3); }
@inline function smallSigma1(x: u32): u32 { return rotr<u32>(x, 17) ^ rotr<u32>(x, 19) ^ (x >>> 10); }
// Ch in three operations instead of four.
@inline function ch(e: u32, f: u32, g: u32): u32 { return g ^ (e & (f ^ g)); }
// Maj(a, b, c) = b ^ ((a ^ b) & (b ^ c)), and b ^ c is the previous round's a ^ b: with that carried
// over (p and q in compress), Maj costs three operations per round instead of five.
@inline function maj(b: u32, ab: u32, bc: u32): u32 { return b ^ (ab & bc); }

// The same four schedule words, four lanes at a time (SIMD has no rotate: shift both ways).
@inline function rotr4(x: v128, n: i32): v128 { return v128.or(i32x4.shr_u(x, n), i32x4.shl(x, 32 - n)); }
@inline function smallSigma0x4(x: v128): v128 { return v128.xor(v128.xor(rotr4(x, 7), rotr4(x, 18)), i32x4.shr_u(x, 3)); }
@inline function smallSigma1x4(x: v128): v128 { return v128.xor(v128.xor(rotr4(x, 17), rotr4(x, 19)), i32x4.shr_u(x, 10)); }

// W[t..t+3] from w16 = W[t-16..t-13], w12 = W[t-12..t-9], w8 = W[t-8..t-5], w4 = W[t-4..t-1].
// W[t+2] and W[t+3] need s1 of W[t] and W[t+1], so s1 is applied in two halves (the other lanes zero).
@inline function nextWords4(w16: v128, w12: v128, w8: v128, w4: v128): v128 {
  const zero = i32x4.splat(0);
  let t = i32x4.add(i32x4.add(w16, smallSigma0x4(v128.shuffle<u32>(w16, w12, 1, 2, 3, 4))), v128.shuffle<u32>(w8, w4, 1, 2, 3, 4));
  t = i32x4.add(t, smallSigma1x4(v128.shuffle<u32>(w4, zero, 2, 3, 4, 4)));
  return i32x4.add(t, smallSigma1x4(v128.shuffle<u32>(zero, t, 0, 0, 4, 5)));
}

// One word of the scalar build's schedule: stage K[t+i] + W[t+i], then replace W[t+i] by W[t+i+16].
@inline function stageWord(t: usize, i: usize): void {
  const at = ((t + i) & 15) << 2;
  const w = load<u32>(W + at);
  store<u32>(KW + (i << 2), w + load<u32>(K + ((t + i) << 2)));
  if (t < 48) {
    store<u32>(W + at, w + smallSigma1(load<u32>(W + ((at + 56) & 63))) + load<u32>(W + ((at + 36) & 63)) + smallSigma0(load<u32>(W + ((at + 4) & 63))));
  }
}

// Stages K + W for rounds t..t+3 and moves the schedule on by four words. t is a constant at every call,
// so all addresses fold. The SIMD build computes the schedule with vector instructions, beside the scalar
// rounds, which then have the general-purpose registers to themselves: with the schedule in 16 scalar
// locals, about a quarter of V8's x64 code for the rounds was spills, and it ran 15% slower.
@inline function stageWords(t: usize): void {
  if (ASC_FEATURE_SIMD) {
    const at = (t & 15) << 2;
    const w16 = v128.load(W + at);
    v128.store(KW, i32x4.add(w16, v128.load(K + (t << 2))));
    if (t < 48) {
      v128.store(W + at, nextWords4(w16, v128.load(W + ((at + 16) & 63)), v128.load(W + ((at + 32) & 63)), v128.load(W + ((at + 48) & 63))));
    }
  } else {
    stageWord(t, 0); stageWord(t, 1); stageWord(t, 2); stageWord(t, 3);
  }
}

// The 64 rounds are written out, the working variables renamed instead of shifted, with the schedule
// staged every four rounds between them: a loop over 16 rounds, or the whole schedule computed before
// the rounds, measured 13-15% slower in V8 (fewer independent instructions to overlap).
function compress(statePtr: usize, dataPtr: usize, nBlocks: usize): void {
  let h0 = load<u32>(statePtr, 0), h1 = load<u32>(statePtr, 4), h2 = load<u32>(statePtr, 8), h3 = load<u32>(statePtr, 12);
  let h4 = load<u32>(statePtr, 16), h5 = load<u32>(statePtr, 20), h6 = load<u32>(statePtr, 24), h7 = load<u32>(statePtr, 28);
  for (let blk: usize = 0; blk < nBlocks; blk++) {
    // The message is big-endian: byte-swap four words at once (SIMD build) or one at a time.
    if (ASC_FEATURE_SIMD) {
      const swap = i8x16(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
      v128.store(W, i8x16.swizzle(v128.load(dataPtr, 0), swap), 0);
      v128.store(W, i8x16.swizzle(v128.load(dataPtr, 16), swap), 16);
      v128.store(W, i8x16.swizzle(v128.load(dataPtr, 32), swap), 32);
      v128.store(W, i8x16.swizzle(v128.load(dataPtr, 48), swap), 48);
    } else {
      for (let i: usize = 0; i < 64; i += 4) store<u32>(W + i, bswap<u32>(load<u32>(dataPtr + i)));
    }
    dataPtr += 64;
    let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
    let p: u32, q = b ^ c;
    stageWords(0);
    h += bigSigma1(e) + ch(e, f, g) + load<u32>(KW, 0); d += h; p = a ^ b; h += bigSigma0(a) + maj(b, p, q);
    g += bigSigma1(d) + ch(d, e, f) + load<u32>(KW, 4); c += g; q = h ^ a; g += bigSigma0(h) + maj(a, q, p);
    f += bigSigma1(c) + ch(c, d, e) + load<u32>(KW, 8); b += f; p = g ^ h; f += bigSigma0(g) + maj(h, p, q);
    e += bigSigma1(b) + ch(b, c, d) + load<u32>(KW, 12); a += e; q = f ^ g; e += bigSigma0(f) + maj(g, q, p);
    stageWords(4);
    d += bigSigma1(a) + ch(a, b, c) + load<u32>(KW, 0); h += d; p = e ^ f; d += bigSigma0(e) + maj(f, p, q);
    c += bigSigma1(h) + ch(h, a, b) + load<u32>(KW, 4); g += c; q = d ^ e; c += bigSigma0(d) + maj(e, q, p);
    b += bigSigma1(g) + ch(g, h, a) + load<u32>(KW, 8); f += b; p = c ^ d; b += bigSigma0(c) + maj(d, p, q);
    a += bigSigma1(f) + ch(f, g, h) + load<u32>(KW, 12); e += a; q = b ^ c; a += bigSigma0(b) + maj(c, q, p);
    stageWords(8);
    h += bigSigma1(e) + ch(e, f, g) + load<u32>(KW, 0); d += h; p = a ^ b; h += bigSigma0(a) + maj(b, p, q);
    g += bigSigma1(d) + ch(d, e, f) + load<u32>(KW, 4); c += g; q = h ^ a; g += bigSigma0(h) + maj(a, q, p);
    f += bigSigma1(c) + ch(c, d, e) + load<u32>(KW, 8); b += f; p = g ^ h; f += bigSigma0(g) + maj(h, p, q);
    e += bigSigma1(b) + ch(b, c, d) + load<u32>(KW, 12); a += e; q = f ^ g; e += bigSigma0(f) + maj(g, q, p);
    stageWords(12);
    d += bigSigma1(a) + ch(a, b, c) + load<u32>(KW, 0); h += d; p = e ^ f; d += bigSigma0(e) + maj(f, p, q);
    c += bigSigma1(h) + ch(h, a, b) + load<u32>(KW, 4); g += c; q = d ^ e; c += bigSigma0(d) + maj(e, q, p);
    b += bigSigma1(g) + ch(g, h, a) + load<u32>(KW, 8); f += b; p = c ^ d; b += bigSigma0(c) + maj(d, p, q);
    a += bigSigma1(f) + ch(f, g, h) + load<u32>(KW, 12); e += a; q = b ^ c; a += bigSigma0(b) + maj(c, q, p);
    stageWords(16);
    h += bigSigma1(e) + ch(e, f, g) + load<u32>(KW, 0); d += h; p = a ^ b; h += bigSigma0(a) + maj(b, p, q);
    g += bigSigma1(d) + ch(d, e, f) + load<u32>(KW, 4); c += g; q = h ^ a; g += bigSigma0(h) + maj(a, q, p);
    f += bigSigma1(c) + ch(c, d, e) + load<u32>(KW, 8); b += f; p = g ^ h; f += bigSigma0(g) + maj(h, p, q);
    e += bigSigma1(b) + ch(b, c, d) + load<u32>(KW, 12); a += e; q = f ^ g; e += bigSigma0(f) + maj(g, q, p);
    stageWords(20);
    d += bigSigma1(a) + ch(a, b, c) + load<u32>(KW, 0); h += d; p = e ^ f; d += bigSigma0(e) + maj(f, p, q);
    c += bigSigma1(h) + ch(h, a, b) + load<u32>(KW, 4); g += c; q = d ^ e; c += bigSigma0(d) + maj(e, q, p);
    b += bigSigma1(g) + ch(g, h, a) + load<u32>(KW, 8); f += b; p = c ^ d; b += bigSigma0(c) + maj(d, p, q);
    a += bigSigma1(f) + ch(f, g, h) + load<u32>(KW, 12); e += a; q = b ^ c; a += bigSigma0(b) + maj(c, q, p);
    stageWords(24);
    h += bigSigma1(e) + ch(e, f, g) + load<u32>(KW, 0); d += h; p = a ^ b; h += bigSigma0(a) + maj(b, p, q);
    g += bigSigma1(d) + ch(d, e, f) + load<u32>(KW, 4); c += g; q = h ^ a; g += bigSigma0(h) + maj(a, q, p);
    f += bigSigma1(c) + ch(c, d, e) + load<u32>(KW, 8); b += f; p = g ^ h; f += bigSigma0(g) + maj(h, p, q);
    e += bigSigma1(b) + ch(b, c, d) + load<u32>(KW, 12); a += e; q = f ^ g; e += bigSigma0(f) + maj(g, q, p);
    stageWords(28);
    d += bigSigma1(a) + ch(a, b, c) + load<u32>(KW, 0); h += d; p = e ^ f; d += bigSigma0(e) + maj(f, p, q);
    c += bigSigma1(h) + ch(h, a, b) + load<u32>(KW, 4); g += c; q = d ^ e; c += bigSigma0(d) + maj(e, q, p);
    b += bigSigma1(g) + ch(g, h, a) + load<u32>(KW, 8); f += b; p = c ^ d; b += bigSigma0(c) + maj(d, p, q);
    a += bigSigma1(f) + ch(f, g, h) + load<u32>(KW, 12); e += a; q = b ^ c; a += bigSigma0(b) + maj(c, q, p);
    stageWords(32);
    h += bigSigma1(e) + ch(e, f, g) + load<u32>(KW, 0); d += h; p = a ^ b; h += bigSigma0(a) + maj(b, p, q);
    g += bigSigma1(d) + ch(d, e, f) + load<u32>(KW, 4); c += g; q = h ^ a; g += bigSigma0(h) + maj(a, q, p);
    f += bigSigma1(c) + ch(c, d, e) + load<u32>(KW, 8); b += f; p = g ^ h; f += bigSigma0(g) + maj(h, p, q);
    e += bigSigma1(b) + ch(b, c, d) + load<u32>(KW, 12); a += e; q = f ^ g; e += bigSigma0(f) + maj(g, q, p);
    stageWords(36);
    d += bigSigma1(a) + ch(a, b, c) + load<u32>(KW, 0); h += d; p = e ^ f; d += bigSigma0(e) + maj(f, p, q);
    c += bigSigma1(h) + ch(h, a, b) + load<u32>(KW, 4); g += c; q = d ^ e; c += bigSigma0(d) + maj(e, q, p);
    b += bigSigma1(g) + ch(g, h, a) + load<u32>(KW, 8); f += b; p = c ^ d; b += bigSigma0(c) + maj(d, p, q);
    a += bigSigma1(f) + ch(f, g, h) + load<u32>(KW, 12); e += a; q = b ^ c; a += bigSigma0(b) + maj(c, q, p);
    stageWords(40);
    h += bigSigma1(e) + ch(e, f, g) + load<u32>(KW, 0); d += h; p = a ^ b; h += bigSigma0(a) + maj(b, p, q);
    g += bigSigma1(d) + ch(d, e, f) + load<u32>(KW, 4); c += g; q = h ^ a; g += bigSigma0(h) + maj(a, q, p);
    f += bigSigma1(c) + ch(c, d, e) + load<u32>(KW, 8); b += f; p = g ^ h; f += bigSigma0(g) + maj(h, p, q);
    e += bigSigma1(b) + ch(b, c, d) + load<u32>(KW, 12); a += e; q = f ^ g; e += bigSigma0(f) + maj(g, q, p);
    stageWords(44);
    d += bigSigma1(a) + ch(a, b, c) + load<u32>(KW, 0); h += d; p = e ^ f; d += bigSigma0(e) + maj(f, p, q);
    c += bigSigma1(h) + ch(h, a, b) + load<u32>(KW, 4); g += c; q = d ^ e; c += bigSigma0(d) + maj(e, q, p);
    b += bigSigma1(g) + ch(g, h, a) + load<u32>(KW, 8); f += b; p = c ^ d; b += bigSigma0(c) + maj(d, p, q);
    a += bigSigma1(f) + ch(f, g, h) + load<u32>(KW, 12); e += a; q = b ^ c; a += bigSigma0(b) + maj(c, q, p);
    stageWords(48);
    h += bigSigma1(e) + ch(e, f, g) + load<u32>(KW, 0); d += h; p = a ^ b; h += bigSigma0(a) + maj(b, p, q);
    g += bigSigma1(d) + ch(d, e, f) + load<u32>(KW, 4); c += g; q = h ^ a; g += bigSigma0(h) + maj(a, q, p);
    f += bigSigma1(c) + ch(c, d, e) + load<u32>(KW, 8); b += f; p = g ^ h; f += bigSigma0(g) + maj(h, p, q);
    e += bigSigma1(b) + ch(b, c, d) + load<u32>(KW, 12); a += e; q = f ^ g; e += bigSigma0(f) + maj(g, q, p);
    stageWords(52);
    d += bigSigma1(a) + ch(a, b, c) + load<u32>(KW, 0); h += d; p = e ^ f; d += bigSigma0(e) + maj(f, p, q);
    c += bigSigma1(h) + ch(h, a, b) + load<u32>(KW, 4); g += c; q = d ^ e; c += bigSigma0(d) + maj(e, q, p);
    b += bigSigma1(g) + ch(g, h, a) + load<u32>(KW, 8); f += b; p = c ^ d; b += bigSigma0(c) + maj(d, p, q);
    a += bigSigma1(f) + ch(f, g, h) + load<u32>(KW, 12); e += a; q = b ^ c; a += bigSigma0(b) + maj(c, q, p);
    stageWords(56);
    h += bigSigma1(e) + ch(e, f, g) + load<u32>(KW, 0); d += h; p = a ^ b; h += bigSigma0(a) + maj(b, p, q);
    g += bigSigma1(d) + ch(d, e, f) + load<u32>(KW, 4); c += g; q = h ^ a; g += bigSigma0(h) + maj(a, q, p);
    f += bigSigma1(c) + ch(c, d, e) + load<u32>(KW, 8); b += f; p = g ^ h; f += bigSigma0(g) + maj(h, p, q);
    e += bigSigma1(b) + ch(b, c, d) + load<u32>(KW, 12); a += e; q = f ^ g; e += bigSigma0(f) + maj(g, q, p);
    stageWords(60);
    d += bigSigma1(a) + ch(a, b, c) + load<u32>(KW, 0); h += d; p = e ^ f; d += bigSigma0(e) + maj(f, p, q);
    c += bigSigma1(h) + ch(h, a, b) + load<u32>(KW, 4); g += c; q = d ^ e; c += bigSigma0(d) + maj(e, q, p);
    b += bigSigma1(g) + ch(g, h, a) + load<u32>(KW, 8); f += b; p = c ^ d; b += bigSigma0(c) + maj(d, p, q);
    a += bigSigma1(f) + ch(f, g, h) + load<u32>(KW, 12); e += a; q = b ^ c; a += bigSigma0(b) + maj(c, q, p);
    h0 += a; h1 += b; h2 += c; h3 += d; h4 += e; h5 += f; h6 += g; h7 += h;
  }
  store<u32>(statePtr, h0, 0); store<u32>(statePtr, h1, 4); store<u32>(statePtr, h2, 8); store<u32>(statePtr, h3, 12);
  store<u32>(statePtr, h4, 16); store<u32>(statePtr, h5, 20); store<u32>(statePtr, h6, 24); store<u32>(statePtr, h7, 28);
}

/** Absorbs nBlocks whole 64-byte blocks from dataPtr into the 8-word state at statePtr. */
export function sha256Blocks(statePtr: usize, dataPtr: usize, nBlocks: i32): void {
  compress(statePtr, dataPtr, <usize>nBlocks);
}

/**
 * Absorbs len bytes from dataPtr (whole blocks, then the padded tail) and writes the 32-byte digest to
 * outPtr. totalBytes is the length of the whole message (earlier blocks included), exact below 2^53.
 */
export function sha256Finish(statePtr: usize, dataPtr: usize, len: i32, totalBytes: f64, outPtr: usize): void {
  const whole = <usize>len >>> 6;
  compress(statePtr, dataPtr, whole);
  const tail = <usize>len & 63;
  memory.copy(PAD, dataPtr + (whole << 6), tail);
  store<u8>(PAD + tail, 0x80);
  const padBlocks: usize = tail < 56 ? 1 : 2;
  const end = PAD + (padBlocks << 6);
  memory.fill(PAD + tail + 1, 0, end - 8 - (PAD + tail + 1));
  store<u64>(end - 8, bswap<u64>(<u64>totalBytes << 3));
  compress(statePtr, PAD, padBlocks);
  for (let i: usize = 0; i < 32; i += 4) store<u32>(outPtr + i, bswap<u32>(load<u32>(statePtr + i)));
}
