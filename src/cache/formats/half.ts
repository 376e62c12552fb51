// IEEE half precision (float16) and bfloat16, which have no typed array here: widened to float32 and narrowed
// back on the bits, so that every value survives (a NaN's payload too, which a trip through a JS number may
// not keep). Used by the .npy reader and writer and by the torch reader.

/** Each half (host order) widened to the float32 of the same value: exact for all 65536 bit patterns. */
export function halfToFloat32(half: Uint16Array): Float32Array {
  const out = new Float32Array(half.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < half.length; i++) {
    const h = half[i];
    const sign = (h & 0x8000) << 16;
    const exponent = (h >> 10) & 0x1f;
    let mantissa = h & 0x3ff;
    if (exponent === 0x1f) bits[i] = sign | 0x7f800000 | (mantissa << 13);
    else if (exponent !== 0) bits[i] = sign | ((exponent + 112) << 23) | (mantissa << 13);
    else if (mantissa === 0) bits[i] = sign;
    else {
      // A subnormal half is a normal float32: shift the mantissa up to its leading 1.
      let e = 113;
      while ((mantissa & 0x400) === 0) { mantissa <<= 1; e--; }
      bits[i] = sign | (e << 23) | ((mantissa & 0x3ff) << 13);
    }
  }
  return out;
}

/** The float32 bits `f` rounded to half bits as NumPy's npy_floatbits_to_halfbits does (to nearest, ties to even). */
function floatBitsToHalfBits(f: number): number {
  const sign = (f >>> 16) & 0x8000;
  const exponent = (f >>> 23) & 0xff;
  const mantissa = f & 0x7fffff;
  if (exponent === 0xff) {
    // Inf stays inf; a NaN keeps its top 10 payload bits, and stays a NaN if those are all 0.
    if (mantissa === 0) return sign | 0x7c00;
    const h = mantissa >>> 13;
    return sign | 0x7c00 | (h === 0 ? 1 : h);
  }
  if (exponent >= 143) return sign | 0x7c00; // at least 2^16: overflows to inf
  if (exponent <= 112) {
    // Below 2^-14: a half subnormal (or 0); under 2^-25 (exponent < 102) even rounding up cannot reach 2^-24.
    if (exponent < 102) return sign;
    const significand = mantissa | 0x800000;
    const shift = 126 - exponent;
    let h = significand >>> shift;
    const rest = significand & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (h & 1) === 1)) h++; // may carry into the smallest normal: right
    return sign | h;
  }
  let h = ((exponent - 112) << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++; // a carry into the exponent is right, up to inf
  return sign | h;
}

/** The float32 values as little-endian half bytes. */
export function float32ToHalfBytes(data: Float32Array): Uint8Array {
  // A copy of the float32 bits: data may sit at an offset that a Uint32Array view cannot start at.
  const bits = new Uint32Array(data.length);
  new Uint8Array(bits.buffer).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  const out = new Uint8Array(data.length * 2);
  for (let i = 0; i < bits.length; i++) {
    const h = floatBitsToHalfBits(bits[i]);
    out[2 * i] = h & 0xff;
    out[2 * i + 1] = h >>> 8;
  }
  return out;
}

/** Each bfloat16 (host order) widened to float32: its bits are the top half of the float32's. */
export function bfloat16ToFloat32(bf16: Uint16Array): Float32Array {
  const out = new Float32Array(bf16.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < bf16.length; i++) bits[i] = bf16[i] << 16;
  return out;
}
