// The single WebAssembly module of dase-cache: every kernel is exported from here.
// Memory is laid out by the TypeScript side (src/wasm/memory.ts) from heapBase() up;
// nothing here allocates, so the stub runtime is all we need.

export { glWeightsChunk } from './gl';
export { fornbergWeights } from './fornberg';
export { laplacianCsrBand, laplacianApplyBand } from './laplacian';
export { csrMatVecBand } from './csr';
export { sha256Blocks, sha256Finish } from './sha256';
export { crc32Update } from './crc32';
export { glDerivativeHistory, caputoL1History } from './fractional';

/** First free byte after the static data, 16-byte aligned. */
export function heapBase(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}
export { historyDirect, historyFold, historyFast } from './history';
