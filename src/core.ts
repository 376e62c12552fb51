// Everything the Node and browser builds export alike; each entry point adds its platform's pieces.

export { init, kernelInfo, simdSupported } from './wasm/loader.js';
export type { InitOptions, KernelBuild, KernelInfo } from './wasm/loader.js';
export { fractionalKernel, glWeights, glWeightsInto } from './kernels/gl.js';
export { caputoL1, glDerivative } from './kernels/fractional.js';
export { fdCoefficients, fornbergWeights } from './kernels/fornberg.js';
export type { FdStencil, StencilKind } from './kernels/fornberg.js';
export { applyLaplacian, laplacian } from './kernels/laplacian.js';
export type { Boundary, LaplacianAccuracy, LaplacianOptions } from './kernels/laplacian.js';
export { csrMatVec } from './kernels/csr.js';
export type { CsrMatrix } from './kernels/csr.js';
export { createSha256, sha256, sha256Hex, Sha256 } from './kernels/sha256.js';
export type { HashInput } from './kernels/sha256.js';
export { CacheError, CacheMissError, IntegrityError, LockTimeoutError } from './cache/errors.js';
export { DEFAULT_CATEGORIES } from './cache/categories.js';
export type { CategoryKind, CategorySpec } from './cache/categories.js';
export type { CacheStats, CategoryStats, SaveOptions, ValidationReport } from './cache/manager.js';
export type { IndexEntry } from './cache/category-index.js';
export { npyStrings } from './cache/formats/npy.js';
export type { NdArray } from './cache/formats/npy.js';
export { memoize, memoryTierOf } from './memo/memoize.js';
export type { MemoCall, Memoized, MemoizeOptions, MemoPolicy, MemoStats } from './memo/memoize.js';
export { cachedKernels, laplacianKey } from './memo/cached-kernels.js';
export type { CachedKernels, CachedKernelsOptions } from './memo/cached-kernels.js';
export { canonicalKey, formatNumber } from './memo/keys.js';
export { MemoryTier, DEFAULT_MEMORY_BYTES } from './memo/memory-tier.js';
