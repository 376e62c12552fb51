// Grünwald–Letnikov weights w_k = (-1)^k binom(alpha, k), by recurrence on r_k = w_k / w_{k-1}.
//
// r_k = ((k - 1) - alpha) / k loses nothing where k - 1 is near alpha (the subtraction is exact there)
// but, for k far above alpha, rounds the same way for every k of one binade, and that bias drifts the
// product by ~n*eps (2e-12 at n = 1e5). So past k = 2(1 + alpha) we use r_k = 1 - c/k, c = 1 + alpha,
// whose rounding is pseudo-random (error ~sqrt(n)*eps) and has no cancellation there.
// Stepping by two, w_k = w_{k-2} * (r_{k-1} * r_k), gives two independent product chains, one per
// SIMD lane; the scalar build uses the same formulas, so both builds give bit-identical weights.

@inline function ratio(k: f64, alpha: f64, c: f64, split: f64): f64 {
  return k <= split ? (k - 1.0 - alpha) / k : 1.0 - c / k;
}

/**
 * Writes w_k for k in [k0, k0 + len) to outPtr. k0 >= 2; prev2 = w_{k0-2}, prev1 = w_{k0-1}.
 * Zeros are written as +0 (a -0 can arise from the sign of r_k at integer alpha).
 */
export function glWeightsChunk(outPtr: usize, k0: i32, len: i32, alpha: f64, prev2: f64, prev1: f64): void {
  const c = 1.0 + alpha;
  const split = 2.0 * c;
  let k = k0;
  const end = k0 + len;
  let p = outPtr;
  // Below the split, one step at a time with the exact-subtraction ratio.
  for (; k < end && <f64>k <= split + 1.0; k++) {
    const w = prev2 * (ratio(<f64>(k - 1), alpha, c, split) * ratio(<f64>k, alpha, c, split));
    store<f64>(p, w + 0.0);
    prev2 = prev1;
    prev1 = w;
    p += 8;
  }
  if (ASC_FEATURE_SIMD) {
    const one = f64x2.splat(1.0);
    const cv = f64x2.splat(c);
    const two = f64x2.splat(2.0);
    const zero = f64x2.splat(0.0);
    let kv = f64x2(<f64>k, <f64>(k + 1));
    let w = f64x2(prev2, prev1);
    // r holds (r_{k-2}, r_{k-1}) entering each step; only its high lane is used.
    let r = f64x2.splat(1.0 - c / <f64>(k - 1));
    for (; k + 1 < end; k += 2) {
      const rNext = f64x2.sub(one, f64x2.div(cv, kv)); // (r_k, r_{k+1})
      const rPrev = v128.shuffle<f64>(r, rNext, 1, 2); // (r_{k-1}, r_k)
      w = f64x2.mul(w, f64x2.mul(rPrev, rNext));
      v128.store(p, f64x2.add(w, zero));
      r = rNext;
      kv = f64x2.add(kv, two);
      p += 16;
    }
    prev2 = f64x2.extract_lane(w, 0);
    prev1 = f64x2.extract_lane(w, 1);
  } else {
    let rPrev = 1.0 - c / <f64>(k - 1);
    for (; k + 1 < end; k += 2) {
      const r0 = 1.0 - c / <f64>k;
      const r1 = 1.0 - c / <f64>(k + 1);
      prev2 = prev2 * (rPrev * r0);
      prev1 = prev1 * (r0 * r1);
      store<f64>(p, prev2 + 0.0);
      store<f64>(p, prev1 + 0.0, 8);
      rPrev = r1;
      p += 16;
    }
  }
  if (k < end) {
    // Odd tail: one more element of the even chain.
    const w = prev2 * ((1.0 - c / <f64>(k - 1)) * (1.0 - c / <f64>k));
    store<f64>(p, w + 0.0);
  }
}

/** Writes w_k for k in [0, n) to outPtr, as glWeightsInto (src/kernels/gl.ts) does chunk by chunk. */
export function glWeightsAll(outPtr: usize, n: i32, alpha: f64): void {
  const w1 = -alpha + 0.0; // + 0 turns -0 into +0 at alpha = 0
  if (n > 0) store<f64>(outPtr, 1.0);
  if (n > 1) store<f64>(outPtr, w1, 8);
  if (n > 2) glWeightsChunk(outPtr + 16, 2, n - 2, alpha, 1.0, w1);
}
