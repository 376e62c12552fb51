import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tsLaplacianCsrGeneral } from '../bench/laplacian-general.js';
import { applyLaplacian, csrMatVec, laplacian, type Boundary, type LaplacianAccuracy } from '../src/node.js';
import { random } from './fixtures/util.js';

interface Case {
  shape: number[]; boundary: Boundary; accuracy: LaplacianAccuracy; spacing: number[];
  indptr: number[]; indices: number[]; data: number[];
}
const vectors = JSON.parse(readFileSync(new URL('./vectors/laplacian.json', import.meta.url), 'utf8')) as { cases: Case[] };

function randomGrid(size: number, seed: number): Float64Array {
  const rand = random(seed);
  return Float64Array.from({ length: size }, () => rand() * 2 - 1);
}

/** Equal as numbers, with +0 and -0 the same (a sum of signed zeros may differ only in sign). */
function expectSameValues(a: Float64Array, b: Float64Array): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) throw new Error(`entry ${i}: ${a[i]} vs ${b[i]}`);
}

const label = (c: Case) => `[${c.shape}] ${c.boundary} acc${c.accuracy} h=[${c.spacing}]`;

describe('laplacian (CSR)', () => {
  it.each(vectors.cases.map((c) => [label(c), c] as const))('%s equals the SciPy Kronecker-sum assembly', (_, c) => {
    const a = laplacian(c.shape, { boundary: c.boundary, accuracy: c.accuracy, spacing: c.spacing });
    const size = c.shape.reduce((p, n) => p * n, 1);
    expect(a.shape).toEqual([size, size]);
    expect([...a.indptr]).toEqual(c.indptr);
    expect([...a.indices]).toEqual(c.indices);
    c.data.forEach((v, e) => {
      if (Math.abs(a.data[e] - v) > 1e-14 * Math.max(1, Math.abs(v))) throw new Error(`entry ${e}: ${a.data[e]} vs ${v}`);
    });
  });

  it('uses the defaults of API.md: dirichlet, accuracy 2, spacing 1', () => {
    const a = laplacian([3, 3]);
    expect([...a.indptr.subarray(0, 3)]).toEqual([0, 3, 7]); // corner: 3 entries; edge: 4
    const center = 4;
    const row = [...a.indices.subarray(a.indptr[center], a.indptr[center + 1])];
    expect(row).toEqual([1, 3, 4, 5, 7]);
    expect([...a.data.subarray(a.indptr[center], a.indptr[center + 1])]).toEqual([1, 1, -4, 1, 1]);
  });

  it('assembles large grids across many bands with sorted rows', () => {
    const a = laplacian([40, 30, 50], { boundary: 'periodic', accuracy: 8 });
    const n = 40 * 30 * 50;
    expect(a.indptr[n]).toBe(a.indices.length);
    for (let r = 0; r < n; r++) {
      expect(a.indptr[r + 1] - a.indptr[r]).toBe(25);
      for (let e = a.indptr[r] + 1; e < a.indptr[r + 1]; e++) if (a.indices[e] <= a.indices[e - 1]) throw new Error(`row ${r} unsorted`);
    }
    // Periodic rows sum to zero; the matrix is symmetric.
    const ones = new Float64Array(n).fill(1);
    expect(Math.max(...csrMatVec(a, ones).map(Math.abs))).toBeLessThan(1e-12);
  });
});

describe('laplacian (CSR) on grids of many bands', () => {
  // Long lines, many short ones, slabs thinner and thicker than a band, axes shorter than the stencil.
  const cases: [number[], Boundary, LaplacianAccuracy][] = [
    [[20000], 'dirichlet', 8], [[15000], 'periodic', 4], [[400, 300], 'neumann', 4], [[3, 20000], 'dirichlet', 2],
    [[64, 64, 64], 'dirichlet', 2], [[37, 41, 29], 'periodic', 6], [[5, 200, 90], 'dirichlet', 8],
    [[3, 3, 5000], 'neumann', 8], [[2000, 2, 3], 'periodic', 8], [[30, 7, 300], 'neumann', 6],
  ];
  // The benchmark's general builder: row by row, with none of laplacian's tables, bands or repeats.
  it.each(cases.map((c) => [`[${c[0]}] ${c[1]} acc${c[2]}`, ...c] as const))('%s equals a row-by-row assembly', (_, shape, boundary, accuracy) => {
    const spacing = shape.map((_, a) => 0.5 + 0.25 * a);
    const a = laplacian(shape, { boundary, accuracy, spacing });
    const ref = tsLaplacianCsrGeneral(shape, { boundary, accuracy, spacing });
    expect(a.indices.length).toBeGreaterThan(1 << 15); // more than one band
    expect(a.indices.length).toBe(ref.indices.length);
    for (let r = 0; r < ref.indptr.length; r++) if (a.indptr[r] !== ref.indptr[r]) throw new Error(`indptr[${r}]: ${a.indptr[r]} vs ${ref.indptr[r]}`);
    for (let e = 0; e < ref.indices.length; e++) {
      if (a.indices[e] !== ref.indices[e]) throw new Error(`indices[${e}]: ${a.indices[e]} vs ${ref.indices[e]}`);
      if (Math.abs(a.data[e] - ref.data[e]) > 1e-12 * Math.max(1, Math.abs(ref.data[e]))) throw new Error(`data[${e}]: ${a.data[e]} vs ${ref.data[e]}`);
    }
  });
});

describe('applyLaplacian', () => {
  const shapes = [[1], [2], [9], [1000], [5, 7], [1, 8], [8, 1], [33, 17], [300, 200], [6, 5, 4], [1, 1, 5], [3, 1, 9], [20, 30, 64]];
  const configs = (['dirichlet', 'neumann', 'periodic'] as const).flatMap((boundary) => ([2, 4, 6, 8] as const).map((accuracy) => ({ boundary, accuracy })));

  it.each(shapes.map((s) => [`[${s}]`, s] as const))('equals csrMatVec(laplacian(...)) bit for bit on %s', (_, shape) => {
    const size = shape.reduce((p, n) => p * n, 1);
    const u = randomGrid(size, size);
    for (const { boundary, accuracy } of configs) {
      const options = { boundary, accuracy, spacing: shape.map((_, a) => 0.3 + 0.2 * a) };
      expectSameValues(applyLaplacian(u, shape, options), csrMatVec(laplacian(shape, options), u));
    }
  });

  it('writes into out and returns it; leaves u untouched', () => {
    const u = randomGrid(64 * 64, 3);
    const copy = u.slice();
    const out = new Float64Array(u.length);
    expect(applyLaplacian(u, [64, 64], { boundary: 'neumann' }, out)).toBe(out);
    expect(u).toEqual(copy);
    expectSameValues(out, applyLaplacian(u, [64, 64], { boundary: 'neumann' }));
  });

  it('is second-order accurate on a smooth periodic function', () => {
    const errors = [32, 64].map((n) => {
      const h = (2 * Math.PI) / n;
      const u = Float64Array.from({ length: n * n }, (_, p) => Math.sin(Math.floor(p / n) * h) * Math.cos((p % n) * h));
      const lu = applyLaplacian(u, [n, n], { boundary: 'periodic', spacing: h });
      return Math.max(...lu.map((v, p) => Math.abs(v + 2 * u[p])));
    });
    expect(errors[0] / errors[1]).toBeGreaterThan(3.9);
    expect(errors[0] / errors[1]).toBeLessThan(4.1);
  });

  it('reaches 8th order at accuracy 8', () => {
    const errors = [16, 32].map((n) => {
      const h = (2 * Math.PI) / n;
      const u = Float64Array.from({ length: n }, (_, i) => Math.sin(i * h));
      const lu = applyLaplacian(u, [n], { boundary: 'periodic', spacing: h, accuracy: 8 });
      return Math.max(...lu.map((v, i) => Math.abs(v + u[i])));
    });
    expect(Math.log2(errors[0] / errors[1])).toBeGreaterThan(7.5);
  });
});

describe('bad arguments', () => {
  it('are rejected with what was expected and what came', () => {
    expect(() => laplacian([])).toThrow(new RangeError('laplacian: expected shape to have 1 to 3 axes, got 0'));
    expect(() => laplacian([2, 2, 2, 2])).toThrow(RangeError);
    expect(() => laplacian([3, 2.5])).toThrow(new RangeError('laplacian: expected shape[1] to be an integer in [1, 2147483647], got 2.5'));
    expect(() => laplacian([0])).toThrow(/shape\[0\] to be an integer in \[1, 2147483647\], got 0/);
    expect(() => laplacian([-3])).toThrow(RangeError);
    expect(() => laplacian('3' as unknown as number[])).toThrow(TypeError);
    expect(() => laplacian([3], { boundary: 'dirichlett' as Boundary })).toThrow(/boundary to be one of "dirichlet", "neumann", "periodic", got "dirichlett"/);
    expect(() => laplacian([3], { accuracy: 3 as LaplacianAccuracy })).toThrow(/accuracy to be one of 2, 4, 6, 8, got 3/);
    expect(() => laplacian([3, 3], { spacing: [1] })).toThrow(/spacing to have 2 entries/);
    expect(() => laplacian([3], { spacing: 0 })).toThrow(/spacing\[0\] to be > 0, got 0/);
    expect(() => laplacian([3], { spacing: NaN })).toThrow(RangeError);
    expect(() => laplacian([3], { spacing: '1' as unknown as number })).toThrow(TypeError);
    expect(() => laplacian([3], { boundry: 'periodic' } as object)).toThrow(new TypeError('laplacian: unknown option "boundry" (expected spacing, boundary, accuracy)'));
    expect(() => laplacian([3], null as unknown as object)).toThrow(TypeError);
    expect(() => laplacian([65536, 65536])).toThrow(/at most 2147483647 grid points/);
    expect(() => applyLaplacian(new Float64Array(5), [2, 3])).toThrow(new RangeError('applyLaplacian: expected u to have length 6, got length 5'));
    expect(() => applyLaplacian([1, 2, 3] as unknown as Float64Array, [3])).toThrow(TypeError);
    expect(() => applyLaplacian(new Float64Array(3), [3], {}, new Float64Array(4))).toThrow(/out to have length 3/);
    const u = new Float64Array(3);
    expect(() => applyLaplacian(u, [3], {}, u)).toThrow(/out must not overlap u/);
    expect(applyLaplacian(new Float64Array([0, 1, 0]), [3])).toEqual(new Float64Array([1, -2, 1])); // still usable
  });
});
