// The zip container of .npz files, written and read directly: a stored member is written straight from the
// array's bytes and read back as a view, with no intermediate copies (fflate's zipSync/unzipSync copy
// each member twice and compute CRC-32 in JavaScript, which dominated saving and loading large arrays).
// Deflated members still go through fflate. Layout as Python's zipfile writes it (what numpy.load reads).

import { deflateSync, inflateSync } from 'fflate';

/**
 * CRC-32 (IEEE) of data, continuing from `previous`. The platform hands in its fastest: Node zlib.crc32
 * (native), browsers the WASM kernel (src/kernels/crc32.ts); {@link crc32Js} only when none is given, so
 * that this module loads no WASM.
 */
export type Crc32 = (data: Uint8Array, previous?: number) => number;

export interface ZipMember {
  name: string;
  /** The member's content, as consecutive pieces (e.g. a .npy header, then the array's bytes). */
  parts: Uint8Array[];
}

const LOCAL = 0x04034b50, CENTRAL = 0x02014b50, END = 0x06054b50, ZIP64_END = 0x06064b50, ZIP64_LOCATOR = 0x07064b50;
const DOS_DATE_1980_01_01 = 0x21; // a fixed date keeps files deterministic, as numpy.savez's are
// Stored members start at a multiple of 64 bytes (padding in an extra field, id 0xd935 as Android's
// zipalign writes): a .npy header is itself a multiple of 64, so the array's data is aligned in the file
// and a reader can view it in place instead of copying.
const ALIGN = 64;
const PADDING_FIELD = 0xd935;
const MAX_32 = 0xffffffff;

let table: Uint32Array | undefined;

/**
 * Plain-JavaScript CRC-32, a byte at a time (about 0.5 GB/s): the fallback of {@link writeZip} when the caller
 * gives no faster one.
 * @param data - the bytes.
 * @param previous - the CRC-32 of the bytes before them; 0 to start.
 * @returns the CRC-32, an unsigned 32-bit integer.
 * @example
 * crc32Js(new TextEncoder().encode('123456789')); // 0xcbf43926
 */
export const crc32Js: Crc32 = (data, previous = 0) => {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = ~previous >>> 0;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
};

/** The longest archive comment a zip can hold, in bytes. */
export const MAX_ZIP_COMMENT = 0xffff;

/**
 * Writes a zip archive of the members, stored (as numpy.savez) or deflated (as numpy.savez_compressed).
 * `comment`: the archive comment (at most {@link MAX_ZIP_COMMENT} bytes), which zip readers such as
 * numpy.load ignore.
 * @throws {RangeError} for an archive of 4 GiB or more (it would need zip64, which this writer leaves out),
 *   or a comment that is too long.
 */
export function writeZip(members: ZipMember[], options: { deflate: boolean; crc32?: Crc32; comment?: Uint8Array }): Uint8Array {
  const comment = options.comment ?? new Uint8Array(0);
  if (comment.length > MAX_ZIP_COMMENT) throw new RangeError(`writeZip: expected a comment of at most ${MAX_ZIP_COMMENT} bytes, got ${comment.length}`);
  const crc32 = options.crc32 ?? crc32Js;
  const encoder = new TextEncoder();
  const prepared = members.map((m) => {
    const name = encoder.encode(m.name);
    let crc = 0;
    let size = 0;
    for (const part of m.parts) { crc = crc32(part, crc); size += part.length; }
    const payload = options.deflate ? [deflateSync(concat(m.parts, size), { level: 6 })] : m.parts;
    const stored = payload.reduce((n, p) => n + p.length, 0);
    return { name, crc, size, payload, stored };
  });
  let localBytes = 0;
  const padding = prepared.map((p) => {
    const pad = options.deflate ? 0 : 4 + ((ALIGN - ((localBytes + 30 + p.name.length + 4) % ALIGN)) % ALIGN);
    localBytes += 30 + p.name.length + pad + p.stored;
    return pad;
  });
  const centralBytes = prepared.reduce((n, p) => n + 46 + p.name.length, 0);
  const total = localBytes + centralBytes + 22 + comment.length;
  if (total >= MAX_32) throw new RangeError(`writeZip: expected an archive under 4 GiB, got ${total} bytes`);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  const method = options.deflate ? 8 : 0;
  const offsets: number[] = [];
  let at = 0;
  prepared.forEach((p, i) => {
    offsets.push(at);
    view.setUint32(at, LOCAL, true);
    view.setUint16(at + 4, 20, true); // version needed: 2.0
    view.setUint16(at + 8, method, true);
    view.setUint16(at + 12, DOS_DATE_1980_01_01, true);
    view.setUint32(at + 14, p.crc, true);
    view.setUint32(at + 18, p.stored, true);
    view.setUint32(at + 22, p.size, true);
    view.setUint16(at + 26, p.name.length, true);
    view.setUint16(at + 28, padding[i], true);
    out.set(p.name, at + 30);
    at += 30 + p.name.length;
    if (padding[i] > 0) {
      view.setUint16(at, PADDING_FIELD, true);
      view.setUint16(at + 2, padding[i] - 4, true);
      at += padding[i];
    }
    for (const part of p.payload) { out.set(part, at); at += part.length; }
  });
  const centralStart = at;
  prepared.forEach((p, i) => {
    view.setUint32(at, CENTRAL, true);
    view.setUint16(at + 4, 20, true); // made by: 2.0
    view.setUint16(at + 6, 20, true);
    view.setUint16(at + 10, method, true);
    view.setUint16(at + 14, DOS_DATE_1980_01_01, true);
    view.setUint32(at + 16, p.crc, true);
    view.setUint32(at + 20, p.stored, true);
    view.setUint32(at + 24, p.size, true);
    view.setUint16(at + 28, p.name.length, true);
    view.setUint32(at + 38, 0o644 << 16, true); // external attributes: a regular file, rw-r--r--
    view.setUint32(at + 42, offsets[i], true);
    out.set(p.name, at + 46);
    at += 46 + p.name.length;
  });
  view.setUint32(at, END, true);
  view.setUint16(at + 8, prepared.length, true);
  view.setUint16(at + 10, prepared.length, true);
  view.setUint32(at + 12, at - centralStart, true);
  view.setUint32(at + 16, centralStart, true);
  view.setUint16(at + 20, comment.length, true);
  out.set(comment, at + 22);
  return out;
}

/**
 * Where the end-of-central-directory record starts: the signature nearest the end whose comment reaches the
 * end exactly (a comment may itself hold the signature's bytes), else, for archives with trailing bytes, the
 * nearest signature.
 */
function endRecord(bytes: Uint8Array, view: DataView): number {
  let nearest = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - MAX_ZIP_COMMENT); i--) {
    if (view.getUint32(i, true) !== END) continue;
    if (i + 22 + view.getUint16(i + 20, true) === bytes.length) return i;
    if (nearest < 0) nearest = i;
  }
  if (nearest < 0) throw new Error('no end-of-central-directory record');
  return nearest;
}

/**
 * The archive comment of a zip (empty when it has none).
 * @throws {Error} when bytes is not a zip archive.
 */
export function readZipComment(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = endRecord(bytes, view);
  return bytes.subarray(end + 22, end + 22 + view.getUint16(end + 20, true));
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) { out.set(part, at); at += part.length; }
  return out;
}

/**
 * The members of a zip archive, by name: stored ones as views into `bytes` (no copy), deflated ones
 * inflated. Reads the central directory, zip64 included (numpy.savez writes zip64 local headers).
 * @throws {Error} for a damaged archive or an unsupported compression method.
 */
export function readZip(bytes: Uint8Array, filter: (name: string) => boolean = () => true): Map<string, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = endRecord(bytes, view);
  let count = view.getUint16(end + 10, true);
  let centralStart = view.getUint32(end + 16, true);
  if ((count === 0xffff || centralStart === MAX_32) && end >= 20 && view.getUint32(end - 20, true) === ZIP64_LOCATOR) {
    const zip64End = Number(view.getBigUint64(end - 12, true));
    if (view.getUint32(zip64End, true) !== ZIP64_END) throw new Error('damaged zip64 end record');
    count = Number(view.getBigUint64(zip64End + 32, true));
    centralStart = Number(view.getBigUint64(zip64End + 48, true));
  }
  const decoder = new TextDecoder();
  const members = new Map<string, Uint8Array>();
  let at = centralStart;
  for (let n = 0; n < count; n++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== CENTRAL) throw new Error(`damaged central directory at byte ${at}`);
    const method = view.getUint16(at + 10, true);
    let stored = view.getUint32(at + 20, true);
    let size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    let local = view.getUint32(at + 42, true);
    const name = decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    // zip64: the 32-bit fields that overflowed are 0xffffffff, and the real values follow in extra field 1.
    for (let e = at + 46 + nameLength; e + 4 <= at + 46 + nameLength + extraLength;) {
      const id = view.getUint16(e, true);
      const length = view.getUint16(e + 2, true);
      if (id === 1) {
        let f = e + 4;
        if (size === MAX_32) { size = Number(view.getBigUint64(f, true)); f += 8; }
        if (stored === MAX_32) { stored = Number(view.getBigUint64(f, true)); f += 8; }
        if (local === MAX_32) { local = Number(view.getBigUint64(f, true)); }
      }
      e += 4 + length;
    }
    at += 46 + nameLength + extraLength + commentLength;
    if (!filter(name)) continue;
    if (local + 30 > bytes.length || view.getUint32(local, true) !== LOCAL) throw new Error(`damaged local header of ${JSON.stringify(name)}`);
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (start + stored > bytes.length) throw new Error(`member ${JSON.stringify(name)} runs past the end of the archive`);
    const data = bytes.subarray(start, start + stored);
    if (method === 0) members.set(name, data);
    else if (method === 8) members.set(name, inflateSync(data, { out: new Uint8Array(size) }));
    else throw new Error(`member ${JSON.stringify(name)} uses compression method ${method}; only stored (0) and deflate (8) are supported`);
  }
  return members;
}
