// Human-readable output: aligned tables, sizes in binary units, ages, dtypes and shapes.

/** A table column: its heading and whether its cells are right-aligned (numbers). */
export interface Column { title: string; align?: 'left' | 'right' }

/**
 * Lays out rows under their headings, columns two spaces apart; the last column is not padded.
 * @example table([{ title: 'KEY' }, { title: 'SIZE', align: 'right' }], [['a', '1 KiB']])
 */
export function table(columns: Column[], rows: string[][]): string[] {
  const widths = columns.map((c, i) => Math.max(c.title.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => {
    if (i === cells.length - 1 && columns[i].align !== 'right') return cell;
    return columns[i].align === 'right' ? cell.padStart(widths[i]) : cell.padEnd(widths[i]);
  }).join('  ').trimEnd();
  return [line(columns.map((c) => c.title)), ...rows.map((r) => line(columns.map((_, i) => r[i] ?? '')))];
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/**
 * Bytes in binary units with three significant digits: 512 B, 8.0 KiB, 21.8 MiB, 1.50 GiB.
 * @example formatBytes(8192) // '8.0 KiB'
 */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) { value /= 1024; unit++; }
  if (unit === 0) return `${bytes} B`;
  return `${value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)} ${UNITS[unit]}`;
}

/**
 * How long ago an ISO time was, in the largest whole unit: '12 s ago', '5 min ago', '3 d ago'.
 * @example formatAge('2026-11-24T10:30:00Z', Date.parse('2026-11-24T10:35:00Z')) // '5 min ago'
 */
export function formatAge(iso: string, now = Date.now()): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '?';
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

const NUMPY_NAMES: Record<string, string> = {
  f8: 'float64', f4: 'float32', i1: 'int8', u1: 'uint8', i2: 'int16', u2: 'uint16',
  i4: 'int32', u4: 'uint32', i8: 'int64', u8: 'uint64', b1: 'bool',
};

/**
 * NumPy's name of a stored dtype ('<f8' -> 'float64'); anything unknown as it came.
 * @example formatDtype('<i4') // 'int32'
 */
export function formatDtype(descr: unknown): string {
  if (typeof descr !== 'string') return '';
  return NUMPY_NAMES[descr.replace(/^[<>|=]/, '')] ?? descr;
}

/** A shape as NumPy prints it without spaces: '(64, 64)' becomes '64x64'; a 1-D one is its length. */
export function formatShape(shape: unknown): string {
  return Array.isArray(shape) ? shape.join('x') : '';
}

/** Milliseconds as '0.05 ms', '4.2 ms', '850 ms' or '2.4 s'. */
export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(1)} s`;
  return `${ms < 1 ? ms.toFixed(2) : ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
}

/** `count` and the noun, plural unless it is one: plural(3, 'entry', 'entries'). */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/**
 * A stored number for a preview line: six significant digits, exponent form when very small or large.
 * Strings (JSON's stand-ins for NaN, Infinity and 64-bit integers) are shown as they are.
 * @example formatValue(-2.823170875182488e-6) // '-2.82317e-6'
 */
export function formatValue(value: unknown): string {
  if (typeof value !== 'number' || Number.isInteger(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-4 || magnitude >= 1e6)) {
    return value.toExponential(5).replace(/\.?0+e/, 'e').replace('e+', 'e');
  }
  return String(Number(value.toPrecision(6)));
}
