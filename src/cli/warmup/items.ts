// What warmup makes: one item per memoized kernel call, plain JSON so that it can be posted to a worker.

import { cachedKernels, type CachedKernels, type Boundary, type LaplacianAccuracy, type StencilKind } from '../../node.js';

/** One memoized kernel call, as a warmup config lists it after expansion. */
export type WarmupCall =
  | { kernel: 'fractional_kernels'; alpha: number; dt: number; n: number }
  | { kernel: 'gl_weights'; alpha: number; n: number }
  | { kernel: 'laplacians'; shape: number[]; boundary: Boundary; accuracy: LaplacianAccuracy; spacing?: number | number[] }
  | { kernel: 'fd_coefficients'; derivative: number; accuracy: number; kind: StencilKind };

/** A call with the entry it makes and a guess at that entry's size (to order and share out the work). */
export type WarmupItem = WarmupCall & { category: string; key: string; estimatedBytes: number };

/** The category a call's result goes to, as cachedKernels stores it. */
function categoryOf(call: WarmupCall): string {
  return call.kernel === 'laplacians' || call.kernel === 'fd_coefficients' ? 'stencils' : 'fractional_kernels';
}

/** Runs the call through the memoized kernel: computed and stored, or loaded (verified) if already stored. */
export function runCall(kernels: CachedKernels, call: WarmupCall): Promise<{ key: string; source: string }> {
  switch (call.kernel) {
    case 'fractional_kernels': return kernels.fractionalKernel.withInfo(call.alpha, call.dt, call.n);
    case 'gl_weights': return kernels.glWeights.withInfo(call.alpha, call.n);
    case 'laplacians': return kernels.laplacian.withInfo(call.shape, laplacianOptions(call));
    case 'fd_coefficients': return kernels.fdCoefficients.withInfo(call.derivative, call.accuracy, call.kind);
  }
}

/** The cache key the call's result is stored under. */
function keyOf(kernels: CachedKernels, call: WarmupCall): string {
  switch (call.kernel) {
    case 'fractional_kernels': return kernels.fractionalKernel.keyFor(call.alpha, call.dt, call.n);
    case 'gl_weights': return kernels.glWeights.keyFor(call.alpha, call.n);
    case 'laplacians': return kernels.laplacian.keyFor(call.shape, laplacianOptions(call));
    case 'fd_coefficients': return kernels.fdCoefficients.keyFor(call.derivative, call.accuracy, call.kind);
  }
}

export function laplacianOptions(call: Extract<WarmupCall, { kernel: 'laplacians' }>) {
  return { boundary: call.boundary, accuracy: call.accuracy, ...(call.spacing === undefined ? {} : { spacing: call.spacing }) };
}

/** About how many bytes the stored result takes: 8 per weight; 12 per CSR non-zero plus 4 per row. */
function estimateBytes(call: WarmupCall): number {
  switch (call.kernel) {
    case 'fractional_kernels':
    case 'gl_weights':
      return 8 * call.n;
    case 'laplacians': {
      const rows = call.shape.reduce((a, b) => a * b, 1);
      return rows * (12 * (1 + call.shape.length * call.accuracy) + 4);
    }
    case 'fd_coefficients':
      return 256;
  }
}

/** The memoized kernels warmup uses: every result written ('always'), none kept in memory. */
export function warmupKernels(cache: Parameters<typeof cachedKernels>[0]): CachedKernels {
  return cachedKernels(cache, { policy: 'always', memory: 0 });
}

/** The entries the calls make, one item per key (a key listed twice is made once). */
export function planItems(kernels: CachedKernels, calls: WarmupCall[]): WarmupItem[] {
  const byKey = new Map<string, WarmupItem>();
  for (const call of calls) {
    const category = categoryOf(call);
    const key = keyOf(kernels, call);
    byKey.set(`${category}/${key}`, { ...call, category, key, estimatedBytes: estimateBytes(call) });
  }
  return [...byKey.values()];
}
