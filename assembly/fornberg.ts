// Finite-difference weights on arbitrary distinct points (B. Fornberg, "Generation of finite difference
// formulas on arbitrarily spaced grids", Math. Comp. 51, 1988).
//
// The original recurrence carries c1 = prod_{j<i-1}(x_{i-1}-x_j) and c2 = prod_{j<i}(x_i-x_j), which
// overflow past ~150 points; only their ratio is used, so we carry it as a product of ratios instead.

/**
 * Weights c_j with f^(m)(x0) ~ sum_j c_j f(x_j), written to outPtr (n values).
 * xPtr: n distinct points; workPtr: scratch of n * (m + 1) f64 (row j holds orders 0..m of point j).
 */
export function fornbergWeights(m: i32, x0: f64, xPtr: usize, n: i32, workPtr: usize, outPtr: usize): void {
  const stride = <usize>(m + 1) << 3;
  memory.fill(workPtr, 0, <usize>n * stride);
  store<f64>(workPtr, 1.0);
  let c4 = load<f64>(xPtr) - x0;
  for (let i = 1; i < n; i++) {
    const xi = load<f64>(xPtr + (<usize>i << 3));
    const xPrev = load<f64>(xPtr + (<usize>(i - 1) << 3));
    const mn = min(i, m);
    const c5 = c4;
    c4 = xi - x0;
    // ratio = c1 / c2 = prod_{j<i-1} (x_{i-1} - x_j) / (x_i - x_j)  /  (x_i - x_{i-1})
    let ratio = 1.0 / (xi - xPrev);
    for (let j = 0; j < i - 1; j++) {
      const xj = load<f64>(xPtr + (<usize>j << 3));
      ratio *= (xPrev - xj) / (xi - xj);
    }
    const rowI = workPtr + <usize>i * stride;
    const rowPrev = workPtr + <usize>(i - 1) * stride;
    // New point i, from point i-1's row (before that row is updated below).
    for (let k = mn; k >= 1; k--) {
      const a = load<f64>(rowPrev + (<usize>(k - 1) << 3));
      const b = load<f64>(rowPrev + (<usize>k << 3));
      store<f64>(rowI + (<usize>k << 3), ratio * (<f64>k * a - c5 * b));
    }
    store<f64>(rowI, -ratio * c5 * load<f64>(rowPrev));
    // Existing points j < i.
    for (let j = 0; j < i; j++) {
      const c3 = xi - load<f64>(xPtr + (<usize>j << 3));
      const rowJ = workPtr + <usize>j * stride;
      for (let k = mn; k >= 1; k--) {
        const a = load<f64>(rowJ + (<usize>k << 3));
        const b = load<f64>(rowJ + (<usize>(k - 1) << 3));
        store<f64>(rowJ + (<usize>k << 3), (c4 * a - <f64>k * b) / c3);
      }
      store<f64>(rowJ, c4 * load<f64>(rowJ) / c3);
    }
  }
  const mOff = <usize>m << 3;
  for (let j = 0; j < n; j++) {
    store<f64>(outPtr + (<usize>j << 3), load<f64>(workPtr + <usize>j * stride + mOff));
  }
}
