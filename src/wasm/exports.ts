// The exports of the kernels' WASM module (assembly/index.ts), as seen from TypeScript.
// Pointers are byte addresses in `memory`; lengths are in elements.

export interface KernelExports {
  readonly memory: WebAssembly.Memory;
  heapBase(): number;
  glWeightsChunk(outPtr: number, k0: number, len: number, alpha: number, prev2: number, prev1: number): void;
  fornbergWeights(m: number, x0: number, xPtr: number, n: number, workPtr: number, outPtr: number): void;
  laplacianCsrBand(desc: number, rowStart: number, rowEnd: number, nnzStart: number,
    indptrPtr: number, indicesPtr: number, dataPtr: number): number;
  laplacianApplyBand(desc: number, slabTable: number, i0Start: number, i0End: number,
    outPtr: number, termsPtr: number): void;
  csrMatVecBand(indptrPtr: number, indicesPtr: number, dataPtr: number, rows: number, nnzBase: number,
    xPtr: number, nCols: number, outPtr: number): number;
  sha256Blocks(statePtr: number, dataPtr: number, nBlocks: number): void;
  sha256Finish(statePtr: number, dataPtr: number, len: number, totalBytes: number, outPtr: number): void;
  /** Returns the CRC-32 as a signed 32-bit integer (WASM's i32): take it >>> 0. */
  crc32Update(crc: number, dataPtr: number, dataLen: number): number;
  glDerivativeHistory(fPtr: number, n: number, alpha: number, scale: number, near: number, leaf: number,
    wPtr: number, outPtr: number, workPtr: number, fftLen: number): void;
  caputoL1History(fPtr: number, n: number, beta: number, scale: number, near: number, leaf: number,
    wPtr: number, outPtr: number, workPtr: number, fftLen: number): void;
  historyDirect(vPtr: number, n: number, cells: number, coefPtr: number, scale: number, lastCoef: number, lastPtr: number, outPtr: number): void;
  historyFold(sPtr: number, p: number, cells: number, lambdaPtr: number, muPtr: number, leavingPtr: number): void;
  historyFast(ringPtr: number, w: number, count: number, newest: number, cells: number, coefPtr: number,
    sPtr: number, p: number, thetaPtr: number, scale: number, lastCoef: number, lastPtr: number, outPtr: number): void;
}

/** Which binary runs the kernels: the SIMD build where the engine validates it, else the scalar one. */
export type KernelBuild = 'simd' | 'scalar';
