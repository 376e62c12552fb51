// Real-input FFTs of power-of-two length N through a complex FFT of length N/2, for convolutions.
//
// Complex numbers are stored interleaved (re, im), 16 bytes each, so one complex is one f64x2.
// Twiddles come from one table T[k] = exp(-2 pi i k / P), k < P/2, for the largest length P in use:
// every entry computed by cos/sin (never by a recurrence, whose error grows with k) and only an eighth
// of them evaluated, the rest following exactly from the symmetries of the circle. Each stage of the
// complex FFT reads its own contiguous copy (a strided walk through T would miss the cache and the TLB
// on every twiddle); shorter transforms read T with a stride.

// Sub-transforms of this many complex numbers (256 KiB) run all their early stages while in cache.
const BLOCK: i32 = 1 << 14;

/**
 * Fills tablePtr (2 tableLen doubles) for real FFTs of any power-of-two length in [8, tableLen]:
 * T[k] = exp(-2 pi i k / tableLen) for k < tableLen / 2, then for each span s = 8, 16, .., tableLen / 2 of
 * the complex FFT the s/2 twiddles exp(-2 pi i j / s) at complex index s/2 + j after T.
 */
export function fftTwiddles(tablePtr: usize, tableLen: i32): void {
  const eighth = tableLen >> 3;
  const step = (2.0 * Math.PI) / <f64>tableLen;
  for (let k = 0; k <= eighth; k++) {
    const theta = <f64>k * step;
    setTwiddle(tablePtr, k, Math.cos(theta), Math.sin(theta));
  }
  // Angle pi/2 - theta: cosine and sine swap.
  for (let k = eighth + 1; k <= 2 * eighth; k++) {
    const p = tablePtr + (<usize>(2 * eighth - k) << 4);
    setTwiddle(tablePtr, k, -load<f64>(p, 8), load<f64>(p));
  }
  // Angle pi/2 + theta: cos = -sin(theta), sin = cos(theta).
  for (let k = 2 * eighth + 1; k < 4 * eighth; k++) {
    const p = tablePtr + (<usize>(k - 2 * eighth) << 4);
    setTwiddle(tablePtr, k, load<f64>(p, 8), load<f64>(p));
  }
  const stagesPtr = tablePtr + (<usize>(tableLen >> 1) << 4);
  for (let span = 8; span <= tableLen >> 1; span <<= 1) {
    const stride = <usize>(tableLen / span) << 4;
    let from = tablePtr;
    let to = stagesPtr + (<usize>(span >> 1) << 4);
    const end = to + (<usize>(span >> 1) << 4);
    for (; to < end; to += 16, from += stride) {
      store<f64>(to, load<f64>(from));
      store<f64>(to, load<f64>(from, 8), 8);
    }
  }
}

// Stores exp(-i theta) given cos and sin of theta.
@inline function setTwiddle(tablePtr: usize, k: i32, c: f64, s: f64): void {
  const p = tablePtr + (<usize>k << 4);
  store<f64>(p, c);
  store<f64>(p, -s, 8);
}

// Swaps elements into bit-reversed order, so that the decimation-in-time stages below work in place.
// Index (a, m, b), a and b of 4 bits, goes to (rev b, rev m, rev a): walking it block pair by block pair
// (fixed m and rev m) keeps both blocks' 32 rows in cache and in the TLB, where a plain walk meets its
// partner at a scattered address for every element once the data outgrows the cache.
function bitReverse(dataPtr: usize, len: i32): void {
  const bits = ctz(len);
  if (bits < 8) {
    for (let i = 0; i < len; i++) {
      const j = reverseBits(i, bits);
      if (i < j) swap(dataPtr, i, j);
    }
    return;
  }
  const midBits = bits - 8;
  const top = bits - 4;
  for (let m = 0; m < 1 << midBits; m++) {
    const mr = reverseBits(m, midBits);
    if (mr < m) continue; // done as the partner of mr
    for (let a = 0; a < 16; a++) {
      const from = (a << top) | (m << 4);
      const to = (mr << 4) | reverse4(a);
      for (let b = 0; b < 16; b++) {
        const i = from | b;
        const j = to | (reverse4(b) << top);
        if (mr > m || i < j) swap(dataPtr, i, j);
      }
    }
  }
}

// The low `bits` bits of x in reverse order.
@inline function reverseBits(x: i32, bits: i32): i32 {
  let r = 0;
  for (let i = 0; i < bits; i++) r = (r << 1) | ((x >> i) & 1);
  return r;
}

// Four bits reversed, looked up in a table of sixteen nibbles.
@inline function reverse4(x: i32): i32 {
  return <i32>((0xF7B3D591E6A2C480 >> (<u64>x << 2)) & 15);
}

@inline function swap(dataPtr: usize, i: i32, j: i32): void {
  const a = dataPtr + (<usize>i << 4);
  const b = dataPtr + (<usize>j << 4);
  if (ASC_FEATURE_SIMD) {
    const t = v128.load(a);
    v128.store(a, v128.load(b));
    v128.store(b, t);
  } else {
    const ar = load<f64>(a), ai = load<f64>(a, 8);
    store<f64>(a, load<f64>(b));
    store<f64>(a, load<f64>(b, 8), 8);
    store<f64>(b, ar);
    store<f64>(b, ai, 8);
  }
}

// The first two radix-2 stages at once: their twiddles are 1 and -i, so they need no multiplication.
function firstStages(dataPtr: usize, len: i32): void {
  const end = dataPtr + (<usize>len << 4);
  for (let p = dataPtr; p < end; p += 64) {
    if (ASC_FEATURE_SIMD) {
      const a0 = v128.load(p), a1 = v128.load(p, 16), a2 = v128.load(p, 32), a3 = v128.load(p, 48);
      const s01 = f64x2.add(a0, a1), d01 = f64x2.sub(a0, a1);
      const s23 = f64x2.add(a2, a3), d23 = f64x2.sub(a2, a3);
      // -i * d23 = (d23.im, -d23.re)
      const r23 = v128.shuffle<f64>(d23, f64x2.neg(d23), 1, 2);
      v128.store(p, f64x2.add(s01, s23));
      v128.store(p, f64x2.add(d01, r23), 16);
      v128.store(p, f64x2.sub(s01, s23), 32);
      v128.store(p, f64x2.sub(d01, r23), 48);
    } else {
      const s01r = load<f64>(p) + load<f64>(p, 16), s01i = load<f64>(p, 8) + load<f64>(p, 24);
      const d01r = load<f64>(p) - load<f64>(p, 16), d01i = load<f64>(p, 8) - load<f64>(p, 24);
      const s23r = load<f64>(p, 32) + load<f64>(p, 48), s23i = load<f64>(p, 40) + load<f64>(p, 56);
      const d23r = load<f64>(p, 32) - load<f64>(p, 48), d23i = load<f64>(p, 40) - load<f64>(p, 56);
      store<f64>(p, s01r + s23r);
      store<f64>(p, s01i + s23i, 8);
      store<f64>(p, d01r + d23i, 16);
      store<f64>(p, d01i + -d23r, 24);
      store<f64>(p, s01r - s23r, 32);
      store<f64>(p, s01i - s23i, 40);
      store<f64>(p, d01r - d23i, 48);
      store<f64>(p, d01i - -d23r, 56);
    }
  }
}

// Radix-2 butterflies of the stages with span in [firstSpan, lastSpan] over len complex numbers at dataPtr;
// the twiddles of span s are at complex index s/2 of stagesPtr.
function stages(dataPtr: usize, len: i32, firstSpan: i32, lastSpan: i32, stagesPtr: usize): void {
  for (let span = firstSpan; span <= lastSpan; span <<= 1) {
    const off = <usize>(span >> 1) << 4;
    for (let i = 0; i < len; i += span) {
      let a = dataPtr + (<usize>i << 4);
      let t = stagesPtr + off;
      const end = a + off;
      if (ASC_FEATURE_SIMD) {
        for (; a < end; a += 16, t += 16) {
          const w = v128.load(t);
          const u = v128.load(a);
          const v = v128.load(a + off);
          // v * w = v.re * (wr, wi) + v.im * (-wi, wr)
          const vw = f64x2.add(
            f64x2.mul(v128.shuffle<f64>(v, v, 0, 0), w),
            f64x2.mul(v128.shuffle<f64>(v, v, 1, 1), v128.shuffle<f64>(w, f64x2.neg(w), 3, 0)),
          );
          v128.store(a, f64x2.add(u, vw));
          v128.store(a + off, f64x2.sub(u, vw));
        }
      } else {
        for (; a < end; a += 16, t += 16) {
          const wr = load<f64>(t), wi = load<f64>(t, 8);
          const ur = load<f64>(a), ui = load<f64>(a, 8);
          const vr = load<f64>(a + off), vi = load<f64>(a + off, 8);
          const xr = vr * wr + vi * -wi;
          const xi = vr * wi + vi * wr;
          store<f64>(a, ur + xr);
          store<f64>(a, ui + xi, 8);
          store<f64>(a + off, ur - xr);
          store<f64>(a + off, ui - xi, 8);
        }
      }
    }
  }
}

// In-place forward complex FFT, unnormalised, X_k = sum_j x_j exp(-2 pi i jk/len), of len complex numbers
// at dataPtr; len a power of two in [4, tableLen / 2].
function complexFft(dataPtr: usize, len: i32, tablePtr: usize, tableLen: i32): void {
  const stagesPtr = tablePtr + (<usize>(tableLen >> 1) << 4);
  bitReverse(dataPtr, len);
  firstStages(dataPtr, len);
  const block = len < BLOCK ? len : BLOCK;
  for (let b = 0; b < len; b += block) {
    stages(dataPtr + (<usize>b << 4), block, 8, block, stagesPtr);
  }
  if (len > block) stages(dataPtr, len, block << 1, len, stagesPtr);
}

/**
 * Forward FFT of realLen real numbers at dataPtr, in place, as realLen/2 complex numbers: X_0 .. X_{N/2-1},
 * except that slot 0 holds the two real values (X_0, X_{N/2}). realLen a power of two in [8, tableLen],
 * tablePtr from fftTwiddles(tableLen).
 */
export function realFft(dataPtr: usize, realLen: i32, tablePtr: usize, tableLen: i32): void {
  const half = realLen >> 1;
  const stride = <usize>(tableLen / realLen) << 4; // W^k = T[k * tableLen / realLen]
  // The even samples are the real parts, the odd ones the imaginary parts of half complex numbers.
  complexFft(dataPtr, half, tablePtr, tableLen);
  const z0r = load<f64>(dataPtr), z0i = load<f64>(dataPtr, 8);
  store<f64>(dataPtr, z0r + z0i);
  store<f64>(dataPtr, z0r - z0i, 8);
  // X_k = E_k + W^k O_k and X_{half-k} = conj(E_k - W^k O_k), with E, O the spectra of the even and
  // odd samples: E_k = (Z_k + conj Z_{half-k}) / 2, O_k = (Z_k - conj Z_{half-k}) / 2i.
  for (let k = 1; k <= half >> 1; k++) {
    const p = dataPtr + (<usize>k << 4);
    const q = dataPtr + (<usize>(half - k) << 4);
    const t = tablePtr + <usize>k * stride;
    const ar = load<f64>(p), ai = load<f64>(p, 8);
    const br = load<f64>(q), bi = -load<f64>(q, 8);
    const er = 0.5 * (ar + br), ei = 0.5 * (ai + bi);
    const or = 0.5 * (ai - bi), oi = -0.5 * (ar - br);
    const wr = load<f64>(t), wi = load<f64>(t, 8);
    const tr = wr * or - wi * oi, ti = wr * oi + wi * or;
    store<f64>(q, er - tr);
    store<f64>(q, -(ei - ti), 8);
    store<f64>(p, er + tr);
    store<f64>(p, ei + ti, 8);
  }
}

/**
 * Inverse of realFft, in place, scaled by realLen: leaves realLen * x at dataPtr.
 */
export function realInverseFft(dataPtr: usize, realLen: i32, tablePtr: usize, tableLen: i32): void {
  const half = realLen >> 1;
  const stride = <usize>(tableLen / realLen) << 4;
  // The inverse transform is conj(FFT(conj Z)), so Z is stored conjugated and the result conjugated back.
  const x0 = load<f64>(dataPtr), xh = load<f64>(dataPtr, 8);
  store<f64>(dataPtr, x0 + xh);
  store<f64>(dataPtr, -(x0 - xh), 8);
  // 2 E_k = X_k + conj X_{half-k}, 2 O_k = (X_k - conj X_{half-k}) conj(W^k), Z_k = E_k + i O_k;
  // E_{half-k} = conj E_k and O_{half-k} = conj O_k give Z_{half-k} from the same pair.
  for (let k = 1; k <= half >> 1; k++) {
    const p = dataPtr + (<usize>k << 4);
    const q = dataPtr + (<usize>(half - k) << 4);
    const t = tablePtr + <usize>k * stride;
    const ar = load<f64>(p), ai = load<f64>(p, 8);
    const br = load<f64>(q), bi = -load<f64>(q, 8);
    const er = ar + br, ei = ai + bi;
    const dr = ar - br, di = ai - bi;
    const wr = load<f64>(t), wi = -load<f64>(t, 8);
    const or = wr * dr - wi * di, oi = wr * di + wi * dr;
    store<f64>(q, er + oi);
    store<f64>(q, -(or - ei), 8);
    store<f64>(p, er - oi);
    store<f64>(p, -(ei + or), 8);
  }
  complexFft(dataPtr, half, tablePtr, tableLen);
  const end = dataPtr + (<usize>half << 4);
  for (let p = dataPtr; p < end; p += 16) store<f64>(p, -load<f64>(p, 8), 8);
}
