// The warmup config: which kernels to make, as JSON. Each section is a list of groups; each field of a
// group is a value or a list of values, and the group stands for every combination of them.
//
//   { "fractional_kernels": [{ "alpha": [0.5, 0.75], "dt": 0.001, "n": [1000, 10000] }],
//     "gl_weights":         [{ "alpha": 0.5, "n": 100000 }],
//     "laplacians":         [{ "shape": [[64, 64], [32, 32, 32]], "boundary": ["dirichlet", "periodic"],
//                              "accuracy": 2, "spacing": 0.01 }],
//     "fd_coefficients":    [{ "derivative": [1, 2], "accuracy": [2, 4], "kind": "center" }] }
//
// `shape` is one shape (a list of sizes) or a list of shapes; `spacing` is not expanded: a number, or a
// list with one spacing per axis, as laplacian() takes it.

import { readFileSync } from 'node:fs';
import { fdCoefficients, laplacianKey, type Boundary, type LaplacianAccuracy, type StencilKind } from '../../node.js';
import { usageError } from '../errors.js';
import { laplacianOptions, type WarmupCall } from './items.js';

/** The sections of a config file and the kernel each runs. */
const SECTIONS = ['fractional_kernels', 'gl_weights', 'laplacians', 'fd_coefficients'] as const;

/**
 * The default set: GL kernels for common orders (sub- and superdiffusion), time steps and lengths, and the
 * 2-D and 3-D Laplacians of common grids with each boundary. About 90 MiB.
 */
export const DEFAULT_CONFIG = Object.freeze({
  fractional_kernels: [{ alpha: [0.25, 0.5, 0.75, 0.9, 1.5], dt: [0.01, 0.001], n: [1000, 10000] }],
  laplacians: [
    { shape: [[64, 64], [128, 128], [256, 256]], boundary: ['dirichlet', 'neumann', 'periodic'] },
    { shape: [[32, 32, 32], [64, 64, 64]], boundary: ['dirichlet', 'neumann', 'periodic'] },
  ],
});

// The largest weight count a config may ask for: 2^27 weights are 1 GiB.
const MAX_WEIGHTS = 2 ** 27;

class ConfigProblem extends Error {}

const describe = (value: unknown) => (JSON.stringify(value) ?? String(value)).slice(0, 60);

function listOf<T>(value: unknown, check: (x: unknown) => x is T, expected: string, where: string): T[] {
  const values = Array.isArray(value) ? value : [value];
  if (values.length === 0) throw new ConfigProblem(`${where}: expected ${expected} (or a list of them), got an empty list`);
  for (const x of values) if (!check(x)) throw new ConfigProblem(`${where}: expected ${expected} (or a list of them), got ${describe(x)}`);
  return values as T[];
}

const isFinite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isPositive = (x: unknown): x is number => isFinite(x) && x > 0;
const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 1 && (x as number) <= MAX_WEIGHTS;
const isInteger = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
const isShape = (x: unknown): x is number[] => Array.isArray(x) && x.length > 0 && x.every((n) => Number.isSafeInteger(n) && n > 0);
const oneOf = <T extends string | number>(allowed: readonly T[]) => (x: unknown): x is T => allowed.includes(x as T);

function fields(group: unknown, where: string, required: string[], optional: string[]): Record<string, unknown> {
  if (typeof group !== 'object' || group === null || Array.isArray(group)) throw new ConfigProblem(`${where}: expected an object, got ${describe(group)}`);
  for (const name of Object.keys(group)) {
    if (!required.includes(name) && !optional.includes(name)) {
      throw new ConfigProblem(`${where}: unknown field ${JSON.stringify(name)} (expected ${[...required, ...optional].join(', ')})`);
    }
  }
  for (const name of required) if (!(name in group)) throw new ConfigProblem(`${where}: missing field ${JSON.stringify(name)}`);
  return group as Record<string, unknown>;
}

/** Every combination of the fields' values, in the order the fields are given (last varies fastest). */
function product<T extends Record<string, unknown>>(lists: { [K in keyof T]: T[K][] }): T[] {
  let out: Record<string, unknown>[] = [{}];
  for (const [name, values] of Object.entries(lists) as [string, unknown[]][]) {
    out = out.flatMap((partial) => values.map((v) => ({ ...partial, [name]: v })));
  }
  return out as T[];
}

function expandGroup(section: (typeof SECTIONS)[number], group: unknown, where: string): WarmupCall[] {
  switch (section) {
    case 'fractional_kernels': {
      const g = fields(group, where, ['alpha', 'dt', 'n'], []);
      return product({
        alpha: listOf(g.alpha, isFinite, 'a finite number', `${where}.alpha`),
        dt: listOf(g.dt, isPositive, 'a number > 0', `${where}.dt`),
        n: listOf(g.n, isCount, `an integer in [1, ${MAX_WEIGHTS}]`, `${where}.n`),
      }).map((c) => ({ kernel: section, ...c }));
    }
    case 'gl_weights': {
      const g = fields(group, where, ['alpha', 'n'], []);
      return product({
        alpha: listOf(g.alpha, isFinite, 'a finite number', `${where}.alpha`),
        n: listOf(g.n, isCount, `an integer in [1, ${MAX_WEIGHTS}]`, `${where}.n`),
      }).map((c) => ({ kernel: section, ...c }));
    }
    case 'laplacians': {
      const g = fields(group, where, ['shape'], ['boundary', 'accuracy', 'spacing']);
      const shapes = Array.isArray(g.shape) && g.shape.every(Array.isArray) ? g.shape : [g.shape];
      const spacing = g.spacing;
      if (spacing !== undefined && !isPositive(spacing) && !(Array.isArray(spacing) && spacing.length > 0 && spacing.every(isPositive))) {
        throw new ConfigProblem(`${where}.spacing: expected a number > 0 or a list of them (one per axis), got ${describe(spacing)}`);
      }
      const calls = product({
        shape: listOf(shapes, isShape, 'a shape (a list of positive integers)', `${where}.shape`),
        boundary: listOf<Boundary>(g.boundary ?? 'dirichlet', oneOf(['dirichlet', 'neumann', 'periodic'] as const), '"dirichlet", "neumann" or "periodic"', `${where}.boundary`),
        accuracy: listOf<LaplacianAccuracy>(g.accuracy ?? 2, oneOf([2, 4, 6, 8] as const), '2, 4, 6 or 8', `${where}.accuracy`),
      }).map((c) => ({ kernel: section, ...c, ...(spacing === undefined ? {} : { spacing: spacing as number | number[] }) }));
      for (const call of calls) {
        try {
          laplacianKey(call.shape, laplacianOptions(call)); // the kernel's own checks: shape, spacing per axis, grid too small
        } catch (error) {
          throw new ConfigProblem(`${where}: ${(error as Error).message.replace(/^cachedKernels\.laplacian: /, '')}`);
        }
      }
      return calls;
    }
    case 'fd_coefficients': {
      const g = fields(group, where, ['derivative', 'accuracy'], ['kind']);
      const calls = product({
        derivative: listOf(g.derivative, isInteger, 'an integer >= 0', `${where}.derivative`),
        accuracy: listOf(g.accuracy, isInteger, 'an integer >= 1', `${where}.accuracy`),
        kind: listOf<StencilKind>(g.kind ?? 'center', oneOf(['center', 'forward', 'backward'] as const), '"center", "forward" or "backward"', `${where}.kind`),
      }).map((c) => ({ kernel: section, ...c }));
      for (const call of calls) {
        try {
          fdCoefficients(call.derivative, call.accuracy, call.kind); // microseconds: the kernel's own checks
        } catch (error) {
          throw new ConfigProblem(`${where}: ${(error as Error).message}`);
        }
      }
      return calls;
    }
  }
}

/**
 * The calls a config stands for, checked.
 * @param config - parsed JSON.
 * @param source - where it came from, for messages.
 * @throws {CliError} (exit 2) naming the first bad field by its path, e.g. `laplacians[1].boundary`.
 */
export function expandConfig(config: unknown, source: string): WarmupCall[] {
  try {
    if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new ConfigProblem(`expected an object with ${SECTIONS.join(', ')}, got ${describe(config)}`);
    const calls: WarmupCall[] = [];
    for (const [section, groups] of Object.entries(config)) {
      if (!(SECTIONS as readonly string[]).includes(section)) {
        throw new ConfigProblem(`unknown section ${JSON.stringify(section)} (expected ${SECTIONS.join(', ')})`);
      }
      const list = Array.isArray(groups) ? groups : [groups];
      list.forEach((group, i) => calls.push(...expandGroup(section as (typeof SECTIONS)[number], group, Array.isArray(groups) ? `${section}[${i}]` : section)));
    }
    if (calls.length === 0) throw new ConfigProblem('it lists no kernels');
    return calls;
  } catch (error) {
    if (error instanceof ConfigProblem) throw usageError(`warmup config ${source}: ${error.message}; run "dase-cache warmup --help" for the format`);
    throw error;
  }
}

/**
 * Reads and checks a config file.
 * @throws {CliError} (exit 2) when it cannot be read, is not JSON, or lists something wrong.
 */
export function readConfig(path: string): WarmupCall[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw usageError(`warmup config ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); check the path given to --config`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw usageError(`warmup config ${path}: not valid JSON (${(error as Error).message}); run "dase-cache warmup --help" for the format`);
  }
  return expandConfig(parsed, path);
}
