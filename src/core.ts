/**
 * Everything the Node and browser builds export alike; each entry point adds its platform's pieces
 * (`checksum`, `CacheManager` and its options), so `import { ... } from 'dase-cache'` gets all of this in both.
 * @module core
 */

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
export type { CacheErrorContext } from './cache/errors.js';
export { DEFAULT_CATEGORIES } from './cache/categories.js';
export type { CategoryKind, CategorySpec } from './cache/categories.js';
export type { CacheStats, CategoryStats, SaveOptions, ValidationReport } from './cache/manager.js';
// Types only: what the public API's signatures name (the class is each platform's CacheManager's base).
export type { CacheManagerCore, EvictedEntry } from './cache/manager.js';
export type { IndexEntry, IndexFile } from './cache/category-index.js';
export type { CategoryReport, Finding, Kept, Problem, RepairAction } from './cache/validate.js';
export type { BudgetStats } from './budget/root-budget.js';
export type { CostModel, CostReport, LoadCostReport } from './cost/cost-model.js';
export type { StorageKind } from './cost/load-model.js';
export { npyStrings } from './cache/formats/npy.js';
export type { NdArray, TypedArray } from './cache/formats/npy.js';
export type { NpzCompression } from './cache/formats/npz.js';
export { memoize, memoryTierOf } from './memo/memoize.js';
export type { MemoCall, Memoized, MemoizeOptions, MemoPolicy, MemoStats } from './memo/memoize.js';
export { cachedKernels, laplacianKey } from './memo/cached-kernels.js';
export type { CachedKernels, CachedKernelsOptions } from './memo/cached-kernels.js';
export { canonicalKey, formatNumber } from './memo/keys.js';
export type { Digest } from './memo/keys.js';
export { MemoryTier, DEFAULT_MEMORY_BYTES } from './memo/memory-tier.js';
export { RemoteError } from './remote/backend.js';
export type { RemoteOptions } from './remote/options.js';
export type { RemoteStats } from './remote/tier.js';
export type { RemoteTotals } from './remote/counts-log.js';
export type { Manifest } from './remote/manifest.js';
export { listRemote, pullFromRemote, pushToRemote } from './remote/sync.js';
export type { SyncReport } from './remote/sync.js';
export { fractionalHistory } from './kernels/history.js';
export { planHistory, planKey, packPlan, unpackPlan } from './kernels/history-plan.js';
export type { HistoryPlan, HistoryPlanOptions } from './kernels/history-plan.js';
export type { FractionalHistory, FractionalHistoryOptions, HistoryMethod, HistoryScheme } from './kernels/history.js';
