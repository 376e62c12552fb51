// Sparse matrix-vector product y = A x for A in CSR form, one band of rows at a time.

/**
 * rows: rows in this band; indptrPtr: their rows+1 offsets (absolute, first = nnzBase);
 * indicesPtr, dataPtr: the band's entries, staged from nnzBase on; xPtr: x (nCols values).
 * Column indices are checked here, where they are read anyway: returns -1 when all are in [0, nCols),
 * else the absolute position of the first bad one (nothing is read out of bounds).
 */
export function csrMatVecBand(
  indptrPtr: usize, indicesPtr: usize, dataPtr: usize, rows: i32, nnzBase: i32,
  xPtr: usize, nCols: i32, outPtr: usize,
): i32 {
  let start = load<i32>(indptrPtr) - nnzBase;
  for (let r = 0; r < rows; r++) {
    const end = load<i32>(indptrPtr + (<usize>(r + 1) << 2)) - nnzBase;
    let acc = 0.0;
    for (let e = start; e < end; e++) {
      const col = load<i32>(indicesPtr + (<usize>e << 2));
      if (<u32>col >= <u32>nCols) return e + nnzBase;
      acc += load<f64>(dataPtr + (<usize>e << 3)) * load<f64>(xPtr + (<usize>col << 3));
    }
    store<f64>(outPtr + (<usize>r << 3), acc);
    start = end;
  }
  return -1;
}
