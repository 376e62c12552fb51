// Argument checks for the public functions: each throws a TypeError (wrong kind) or RangeError (right kind,
// wrong value) whose message names the argument, what was expected and what came.

/** A short, safe description of any value for an error message. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of length ${(value as unknown as ArrayLike<unknown>).length ?? value.byteLength}`;
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    const ctor = proto?.constructor?.name;
    if (proto !== null && proto !== Object.prototype && ctor) return `an instance of ${ctor}`;
    return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
  }
  return `${typeof value} ${String(value)}`.slice(0, 60);
}

export function finiteNumber(where: string, name: string, value: unknown): number {
  if (typeof value !== 'number') throw new TypeError(`${where}: expected ${name} to be a number, got ${describe(value)}`);
  if (!Number.isFinite(value)) throw new RangeError(`${where}: expected ${name} to be a finite number, got ${describe(value)}`);
  return value;
}

export function integerInRange(where: string, name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number') throw new TypeError(`${where}: expected ${name} to be an integer, got ${describe(value)}`);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new RangeError(`${where}: expected ${name} to be an integer ${range}, got ${describe(value)}`);
  }
  return value;
}

export function float64Array(where: string, name: string, value: unknown, length?: number): Float64Array {
  if (!(value instanceof Float64Array)) throw new TypeError(`${where}: expected ${name} to be a Float64Array, got ${describe(value)}`);
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`${where}: expected ${name} to have length ${length}, got length ${value.length}`);
  }
  return value;
}

export function int32Array(where: string, name: string, value: unknown, length?: number): Int32Array {
  if (!(value instanceof Int32Array)) throw new TypeError(`${where}: expected ${name} to be an Int32Array, got ${describe(value)}`);
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`${where}: expected ${name} to have length ${length}, got length ${value.length}`);
  }
  return value;
}

export function oneOf<T extends string | number>(where: string, name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new RangeError(`${where}: expected ${name} to be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

/** Rejects keys a function does not know, so that a misspelt option is not silently ignored. */
export function knownKeys(where: string, options: object, allowed: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new TypeError(`${where}: unknown option ${JSON.stringify(key)} (expected ${allowed.join(', ')})`);
    }
  }
}

export function optionsObject(where: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${where}: expected options to be an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}
