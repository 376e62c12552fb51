import { describe, expect, it } from 'vitest';
import { csrMatVec, laplacian, type CsrMatrix } from '../src/node.js';
import { random } from './fixtures/util.js';

function randomCsr(rows: number, cols: number, density: number, seed: number): CsrMatrix {
  const rand = random(seed);
  const indptr = new Int32Array(rows + 1);
  const indices: number[] = [];
  const data: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) if (rand() < density) { indices.push(c); data.push(rand() - 0.5); }
    indptr[r + 1] = indices.length;
  }
  return { shape: [rows, cols], indptr, indices: Int32Array.from(indices), data: Float64Array.from(data) };
}

function reference(a: CsrMatrix, x: Float64Array): Float64Array {
  const y = new Float64Array(a.shape[0]);
  for (let r = 0; r < a.shape[0]; r++) {
    let acc = 0;
    for (let e = a.indptr[r]; e < a.indptr[r + 1]; e++) acc += a.data[e] * x[a.indices[e]];
    y[r] = acc;
  }
  return y;
}

describe('csrMatVec', () => {
  it('equals a plain loop on random matrices, square and rectangular, across bands', () => {
    for (const [rows, cols, density] of [[1, 1, 1], [7, 3, 0.5], [3, 70000, 0.9], [40000, 5, 0.6], [500, 500, 0.05], [0, 4, 1], [4, 0, 1]] as const) {
      const a = randomCsr(rows, cols, density, rows * 31 + cols);
      const x = Float64Array.from({ length: cols }, (_, i) => Math.cos(i));
      expect(csrMatVec(a, x)).toEqual(reference(a, x));
    }
  });

  it('handles a row wider than a band, and empty rows', () => {
    const cols = 100_000;
    const a: CsrMatrix = {
      shape: [3, cols],
      indptr: new Int32Array([0, 0, cols, cols]),
      indices: Int32Array.from({ length: cols }, (_, i) => i),
      data: new Float64Array(cols).fill(0.5),
    };
    const x = new Float64Array(cols).fill(2);
    expect(csrMatVec(a, x)).toEqual(new Float64Array([0, cols, 0]));
  });

  it('writes into out, which may be x itself', () => {
    const a = laplacian([50]);
    const x = Float64Array.from({ length: 50 }, (_, i) => i * i);
    const expected = reference(a, x);
    const out = new Float64Array(50);
    expect(csrMatVec(a, x, out)).toBe(out);
    expect(out).toEqual(expected);
    expect(csrMatVec(a, x, x)).toEqual(expected);
  });

  it('rejects inconsistent matrices and wrong lengths, then still works', () => {
    const good = laplacian([4]);
    const x = new Float64Array(4);
    const with_ = (patch: Partial<CsrMatrix>) => ({ ...good, ...patch }) as CsrMatrix;
    expect(() => csrMatVec(with_({ indices: new Int32Array([0, 1, 0, 1, 2, 1, 2, 3, 2, 4]) }), x))
      .toThrow(new RangeError('csrMatVec: expected column indices in [0, 4), got matrix.indices[9] = 4'));
    expect(() => csrMatVec(with_({ indices: new Int32Array([0, 1, 0, 1, 2, -1, 2, 3, 2, 3]) }), x)).toThrow(/got matrix.indices\[5\] = -1/);
    expect(() => csrMatVec(with_({ indptr: new Int32Array([0, 2, 1, 8, 10]) }), x)).toThrow(/indptr to be non-decreasing, got indptr\[1\] = 2 > indptr\[2\] = 1/);
    expect(() => csrMatVec(with_({ indptr: new Int32Array([1, 2, 5, 8, 10]) }), x)).toThrow(/indptr\[0\] to be 0/);
    expect(() => csrMatVec(with_({ indptr: new Int32Array([0, 2, 5, 8, 9]) }), x)).toThrow(/indptr\[4\] to equal the 10 stored entries, got 9/);
    expect(() => csrMatVec(with_({ indptr: new Int32Array([0, 2, 5, 8]) }), x)).toThrow(/indptr to have length 5, got length 4/);
    expect(() => csrMatVec(with_({ data: new Float64Array(9) }), x)).toThrow(/data to have length 10/);
    expect(() => csrMatVec(with_({ shape: [4] as unknown as [number, number] }), x)).toThrow(TypeError);
    expect(() => csrMatVec(with_({ indices: [0] as unknown as Int32Array }), x)).toThrow(TypeError);
    expect(() => csrMatVec(null as unknown as CsrMatrix, x)).toThrow(TypeError);
    expect(() => csrMatVec(good, new Float64Array(3))).toThrow(/x to have length 4, got length 3/);
    expect(() => csrMatVec(good, x, new Float64Array(5))).toThrow(/out to have length 4/);
    expect(csrMatVec(good, new Float64Array([1, 1, 1, 1]))).toEqual(new Float64Array([-1, 0, 0, -1]));
  });
});
