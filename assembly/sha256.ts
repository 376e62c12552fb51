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
]);

// Message schedule W[0..63], then K[t] + W[t] (the rounds only ever need their sum).
const KW: usize = memory.data(256, 16);
// Padding block(s) for the final call.
const PAD: usize = memory.data(128, 16);

// Byte-swap four big-endian words at once (SIMD build) or one at a time.
@inline function loadWordsBE(dataPtr: usize): void {
  if (ASC_FEATURE_SIMD) {
    const swap = i8x16(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
    for (let t: usize = 0; t < 64; t += 16) {
      v128.store(KW + t, i8x16.swizzle(v128.load(dataPtr + t), swap));
    }
  } else {
    for (let t: usize = 0; t < 64; t += 4) {
      store<u32>(KW + t, bswap<u32>(load<u32>(dataPtr + t)));
    }
  }
}

function compress(statePtr: usize, dataPtr: usize, nBlocks: usize): void {
  let h0 = load<u32>(statePtr, 0), h1 = load<u32>(statePtr, 4), h2 = load<u32>(statePtr, 8), h3 = load<u32>(statePtr, 12);
  let h4 = load<u32>(statePtr, 16), h5 = load<u32>(statePtr, 20), h6 = load<u32>(statePtr, 24), h7 = load<u32>(statePtr, 28);
  for (let blk: usize = 0; blk < nBlocks; blk++) {
    loadWordsBE(dataPtr);
    dataPtr += 64;
    for (let t: usize = 64; t < 256; t += 4) {
      const w15 = load<u32>(KW + t - 60);
      const w2 = load<u32>(KW + t - 8);
      const s0 = rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >>> 3);
      const s1 = rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >>> 10);
      store<u32>(KW + t, load<u32>(KW + t - 64) + s0 + load<u32>(KW + t - 28) + s1);
    }
    for (let t: usize = 0; t < 256; t += 4) {
      store<u32>(KW + t, load<u32>(KW + t) + load<u32>(K + t));
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
    for (let kw = KW; kw < KW + 256; kw += 32) {
      h += (rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25)) + ((e & f) ^ (~e & g)) + load<u32>(kw, 0);
      d += h;
      h += (rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      g += (rotr<u32>(d, 6) ^ rotr<u32>(d, 11) ^ rotr<u32>(d, 25)) + ((d & e) ^ (~d & f)) + load<u32>(kw, 4);
      c += g;
      g += (rotr<u32>(h, 2) ^ rotr<u32>(h, 13) ^ rotr<u32>(h, 22)) + ((h & a) ^ (h & b) ^ (a & b));
      f += (rotr<u32>(c, 6) ^ rotr<u32>(c, 11) ^ rotr<u32>(c, 25)) + ((c & d) ^ (~c & e)) + load<u32>(kw, 8);
      b += f;
      f += (rotr<u32>(g, 2) ^ rotr<u32>(g, 13) ^ rotr<u32>(g, 22)) + ((g & h) ^ (g & a) ^ (h & a));
      e += (rotr<u32>(b, 6) ^ rotr<u32>(b, 11) ^ rotr<u32>(b, 25)) + ((b & c) ^ (~b & d)) + load<u32>(kw, 12);
      a += e;
      e += (rotr<u32>(f, 2) ^ rotr<u32>(f, 13) ^ rotr<u32>(f, 22)) + ((f & g) ^ (f & h) ^ (g & h));
      d += (rotr<u32>(a, 6) ^ rotr<u32>(a, 11) ^ rotr<u32>(a, 25)) + ((a & b) ^ (~a & c)) + load<u32>(kw, 16);
      h += d;
      d += (rotr<u32>(e, 2) ^ rotr<u32>(e, 13) ^ rotr<u32>(e, 22)) + ((e & f) ^ (e & g) ^ (f & g));
      c += (rotr<u32>(h, 6) ^ rotr<u32>(h, 11) ^ rotr<u32>(h, 25)) + ((h & a) ^ (~h & b)) + load<u32>(kw, 20);
      g += c;
      c += (rotr<u32>(d, 2) ^ rotr<u32>(d, 13) ^ rotr<u32>(d, 22)) + ((d & e) ^ (d & f) ^ (e & f));
      b += (rotr<u32>(g, 6) ^ rotr<u32>(g, 11) ^ rotr<u32>(g, 25)) + ((g & h) ^ (~g & a)) + load<u32>(kw, 24);
      f += b;
      b += (rotr<u32>(c, 2) ^ rotr<u32>(c, 13) ^ rotr<u32>(c, 22)) + ((c & d) ^ (c & e) ^ (d & e));
      a += (rotr<u32>(f, 6) ^ rotr<u32>(f, 11) ^ rotr<u32>(f, 25)) + ((f & g) ^ (~f & h)) + load<u32>(kw, 28);
      e += a;
      a += (rotr<u32>(b, 2) ^ rotr<u32>(b, 13) ^ rotr<u32>(b, 22)) + ((b & c) ^ (b & d) ^ (c & d));
    }
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
