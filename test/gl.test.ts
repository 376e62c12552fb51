import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fractionalKernel, glWeights, glWeightsInto } from '../src/node.js';

const vectors = JSON.parse(readFileSync(new URL('./vectors/gl.json', import.meta.url), 'utf8')) as {
  cases: { alpha: number; n: number; k: number[]; w: string[] }[];
};

describe('glWeights', () => {
  it.each(vectors.cases.map((c) => [c.alpha, c] as const))('matches mpmath within 1e-13 relative for alpha = %s up to n = 1e5', (_, c) => {
    const w = glWeights(c.alpha, c.n);
    let worst = 0;
    c.k.forEach((k, i) => {
      const exact = Number(c.w[i]);
      worst = Math.max(worst, Math.abs(w[k] - exact) / Math.abs(exact));
    });
    expect(worst).toBeLessThan(1e-13);
  });

  it('starts with w0 = 1 and w1 = -alpha', () => {
    for (const alpha of [0.5, 0.3, -2.25, 7]) {
      const w = glWeights(alpha, 2);
      expect(w[0]).toBe(1);
      expect(w[1]).toBe(-alpha);
    }
  });

  it('gives exact +0 past an integer alpha', () => {
    for (const alpha of [0, 1, 2, 3, 5, 10]) {
      const w = glWeights(alpha, 50_000);
      for (let k = alpha + 1; k < w.length; k++) {
        if (!Object.is(w[k], 0)) throw new Error(`alpha ${alpha}: w[${k}] = ${w[k]}, expected +0`);
      }
      // Binomial coefficients before that: (-1)^k C(alpha, k), integers computed exactly here.
      let binom = 1;
      for (let k = 0; k <= alpha; k++) {
        expect(Math.abs(w[k] - (k % 2 === 0 ? 1 : -1) * binom)).toBeLessThanOrEqual(2e-16 * binom);
        binom = (binom * (alpha - k)) / (k + 1);
      }
    }
  });

  it('does not depend on where the output is chunked', () => {
    const n = 3 * 8192 + 5;
    const whole = glWeights(0.37, n);
    for (const length of [1, 2, 3, 8191, 8192, 8193, 16385, n]) {
      expect(glWeights(0.37, length)).toEqual(whole.subarray(0, length));
    }
  });

  it('glWeightsInto fills and returns the given array', () => {
    const out = new Float64Array(1000);
    expect(glWeightsInto(out, 1.25)).toBe(out);
    expect(out).toEqual(glWeights(1.25, 1000));
    expect(glWeights(0.5, 0)).toEqual(new Float64Array(0));
    expect(glWeightsInto(new Float64Array(1), 0.5)).toEqual(new Float64Array([1]));
  });

  it('rejects bad arguments with messages that say what was expected', () => {
    expect(() => glWeights(NaN, 10)).toThrow(new RangeError('glWeights: expected alpha to be a finite number, got NaN'));
    expect(() => glWeights(Infinity, 10)).toThrow(RangeError);
    expect(() => glWeights(-Infinity, 10)).toThrow(/finite number, got -Infinity/);
    expect(() => glWeights('0.5' as unknown as number, 10)).toThrow(TypeError);
    expect(() => glWeights(0.5, -1)).toThrow(new RangeError('glWeights: expected n to be an integer >= 0, got -1'));
    expect(() => glWeights(0.5, 2.5)).toThrow(RangeError);
    expect(() => glWeights(0.5, 2 ** 53)).toThrow(RangeError);
    expect(() => glWeights(0.5, NaN)).toThrow(RangeError);
    expect(() => glWeights(0.5, 10n as unknown as number)).toThrow(TypeError);
    expect(() => glWeightsInto([0, 0] as unknown as Float64Array, 0.5)).toThrow(/expected out to be a Float64Array, got an array of length 2/);
    expect(() => glWeightsInto(new Float32Array(4) as unknown as Float64Array, 0.5)).toThrow(TypeError);
    expect(glWeights(0.5, 3)).toEqual(new Float64Array([1, -0.5, -0.125])); // still usable
  });
});

describe('fractionalKernel', () => {
  it('is the GL weights scaled by dt^-alpha, and refuses a step that is not positive', () => {
    const w = glWeights(0.5, 100);
    const k = fractionalKernel(0.5, 0.01, 100);
    for (let i = 0; i < 100; i++) expect(k[i]).toBe(w[i] * 0.01 ** -0.5);
    expect(() => fractionalKernel(0.5, 0, 10)).toThrow(/expected dt > 0, got 0/);
    expect(() => fractionalKernel(0.5, NaN, 10)).toThrow(RangeError);
    expect(() => fractionalKernel(NaN, 0.01, 10)).toThrow(/alpha/);
  });
});
