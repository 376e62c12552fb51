// The example's time stepping as it was before fractionalHistory: every state kept, and the memory term a
// TypeScript loop over the whole history, O(steps² · cells). A baseline of the history benchmark, and in the
// tests the reference the new simulate must agree with.

import { csrMatVec, type CsrMatrix } from '../src/node.js';
import type { DiffusionResult } from '../examples/diffusion-model.js';

// As the example had it.
const SNAPSHOTS = 20;

/**
 * The memory term of step n as the old example computed it: memory = sum_{k=1}^{n} kernel[k] u^{n-k} over
 * the history array (u^0..u^(n-1) as consecutive fields), and the sum of those weights; simulateReference's
 * loop, as a function for the benchmark.
 */
export function referenceMemoryTerm(history: Float64Array, cells: number, n: number, kernel: Float64Array, memory: Float64Array): number {
  memory.fill(0);
  let kernelSum = 0;
  for (let k = 1; k <= n; k++) {
    const w = kernel[k];
    kernelSum += w;
    const past = history.subarray((n - k) * cells, (n - k + 1) * cells);
    for (let i = 0; i < cells; i++) memory[i] += w * past[i];
  }
  return kernelSum;
}

/**
 * The old `simulate` of examples/diffusion-model.ts (its memory term is referenceMemoryTerm): explicit GL time
 * stepping from a Gaussian bump.
 */
export function simulateReference(grid: number, steps: number, kappa: number, kernel: Float64Array, lap: CsrMatrix): DiffusionResult {
  const cells = grid * grid;
  const history = new Float64Array((steps + 1) * cells); // u^0 .. u^steps, all needed by the memory term
  const c = (grid - 1) / 2;
  for (let i = 0; i < grid; i++) {
    for (let j = 0; j < grid; j++) history[i * grid + j] = Math.exp(-((i - c) ** 2 + (j - c) ** 2) / (grid / 8) ** 2);
  }
  const u0 = history.subarray(0, cells);
  const laplace = new Float64Array(cells);
  const memory = new Float64Array(cells);
  const every = Math.max(1, Math.floor(steps / SNAPSHOTS));
  const frames = [0];
  const centre = new Float64Array(steps + 1);
  const middle = Math.floor(grid / 2) * grid + Math.floor(grid / 2);
  centre[0] = u0[middle];
  for (let n = 1; n <= steps; n++) {
    csrMatVec(lap, history.subarray((n - 1) * cells, n * cells), laplace);
    const kernelSum = referenceMemoryTerm(history, cells, n, kernel, memory);
    const next = history.subarray(n * cells, (n + 1) * cells);
    for (let i = 0; i < cells; i++) {
      // sum_k K_k (u^{n-k} - u^0) = kappa Δu^{n-1}, solved for u^n.
      next[i] = u0[i] + (kappa * laplace[i] - (memory[i] - kernelSum * u0[i])) / kernel[0];
    }
    centre[n] = next[middle];
    if (n % every === 0 || n === steps) frames.push(n);
  }
  const snapshots = new Float64Array(frames.length * cells);
  frames.forEach((n, f) => snapshots.set(history.subarray(n * cells, (n + 1) * cells), f * cells));
  return { snapshots: { data: snapshots, shape: [frames.length, grid, grid] }, frames: Int32Array.from(frames), centre };
}
