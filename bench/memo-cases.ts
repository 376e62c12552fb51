// The cached kernels and operators the memoization benchmark measures, at several sizes; shared by the
// benchmark and the fresh processes it starts (bench/memo-fresh.ts).
import {
  caputoL1, fdCoefficients, fornbergWeights, fractionalKernel, glDerivative, laplacian, type CachedKernels, type MemoCall,
} from '../src/node.js';

/** What bench/memo-fresh.ts reports, beside the cases, of the first memoized call of its process. */
export const FIRST_CALL = '(first memoized call)';

export interface MemoCase {
  name: string;
  /** The kernel called directly, no cache. */
  compute: () => unknown;
  /** The same call through the memoized kernels. */
  call: (kernels: CachedKernels) => Promise<MemoCall<unknown>>;
  /** The call's cache key. */
  key: (kernels: CachedKernels) => string;
}

/** A smooth history of n samples. */
function history(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, j) => Math.sin(j * 1e-3) + 1);
}

export function memoCases(): MemoCase[] {
  const cases: MemoCase[] = [];
  for (const n of [1e3, 1e5, 1e6]) {
    cases.push({
      name: `fractionalKernel(0.5, 0.01, ${n})`,
      compute: () => fractionalKernel(0.5, 0.01, n),
      call: (k) => k.fractionalKernel.withInfo(0.5, 0.01, n),
      key: (k) => k.fractionalKernel.keyFor(0.5, 0.01, n),
    });
  }
  for (const shape of [[64, 64], [512, 512], [64, 64, 64]]) {
    cases.push({ name: `laplacian([${shape}])`, compute: () => laplacian(shape), call: (k) => k.laplacian.withInfo(shape), key: (k) => k.laplacian.keyFor(shape) });
  }
  cases.push({
    name: 'fdCoefficients(2, 8)', compute: () => fdCoefficients(2, 8),
    call: (k) => k.fdCoefficients.withInfo(2, 8) as Promise<MemoCall<unknown>>, key: (k) => k.fdCoefficients.keyFor(2, 8),
  });
  const points = Array.from({ length: 9 }, (_, i) => (i - 4) * 0.5 + 0.1 * Math.sin(i));
  cases.push({
    name: 'fornbergWeights(2, 0, 9 points)', compute: () => fornbergWeights(2, 0, points),
    call: (k) => k.fornbergWeights.withInfo(2, 0, points), key: (k) => k.fornbergWeights.keyFor(2, 0, points),
  });
  for (const n of [1e3, 1e5, 1e6]) {
    const f = history(n);
    cases.push({
      name: `glDerivative(f, 0.5, 1e-3), n = ${n}`, compute: () => glDerivative(f, 0.5, 1e-3),
      call: (k) => k.glDerivative.withInfo(f, 0.5, 1e-3), key: (k) => k.glDerivative.keyFor(f, 0.5, 1e-3),
    });
  }
  for (const n of [1e4, 1e6]) {
    const f = history(n);
    cases.push({
      name: `caputoL1(f, 0.5, 1e-3), n = ${n}`, compute: () => caputoL1(f, 0.5, 1e-3),
      call: (k) => k.caputoL1.withInfo(f, 0.5, 1e-3), key: (k) => k.caputoL1.keyFor(f, 0.5, 1e-3),
    });
  }
  return cases;
}
