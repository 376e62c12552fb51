// Reads the state dicts that `torch.save(model.state_dict(), path)` writes (the zip format of torch >= 1.6), so
// caches written by the older Python version of this library can be read without Python. The pickle inside is
// interpreted by a small allow-listed machine: it knows the opcodes and the few globals a state dict needs and
// refuses anything else; nothing is ever imported, called or evaluated.
//
// Archive layout: `<root>/data.pkl` (the pickled dict), `<root>/data/<key>` (one member per storage, raw
// elements in the saving machine's byte order), `<root>/version`, and since torch 2.1 `<root>/byteorder`
// (`little` or `big`; absent means little). Tensors are `_rebuild_tensor_v2(storage, offset, size, stride,
// requires_grad, hooks)` calls whose storage is a persistent id `('storage', torch.XStorage, key, location, numel)`.

import { describe } from '../../_args.js';
import { hostIsLittleEndian, swapBytes } from './byte-order.js';
import type { DecodedTensor, SafetensorsDtype, TypedArray } from './safetensors.js';
import { bfloat16ToFloat32, halfToFloat32 } from './half.js';
import { readZip } from './zip.js';

const WHERE = 'decodeTorchStateDict';

type StorageKind = {
  /** Bytes per element in the storage member. */
  size: number;
  /** The dtype of the decoded tensor (half and bfloat16 are widened to F32). */
  dtype: SafetensorsDtype;
  /** Turns C-ordered, host-order element bytes into the tensor's data (owns `bytes`). */
  make: (bytes: Uint8Array) => TypedArray;
};

const view = <T>(Kind: new (buffer: ArrayBuffer) => T) => (bytes: Uint8Array) => new Kind(bytes.buffer as ArrayBuffer);

// Half and bfloat16 have no typed array here (safetensors.ts refuses F16/BF16 for the same reason): both widen
// to float32 exactly, bit for bit (signed zeros, subnormals, infinities and NaN payloads included).
const halves = (bytes: Uint8Array) => new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
const halfBytesToFloat32 = (bytes: Uint8Array) => halfToFloat32(halves(bytes));
const bfloat16BytesToFloat32 = (bytes: Uint8Array) => bfloat16ToFloat32(halves(bytes));

const STORAGES: Record<string, StorageKind> = {
  FloatStorage: { size: 4, dtype: 'F32', make: view(Float32Array) },
  DoubleStorage: { size: 8, dtype: 'F64', make: view(Float64Array) },
  HalfStorage: { size: 2, dtype: 'F32', make: halfBytesToFloat32 },
  BFloat16Storage: { size: 2, dtype: 'F32', make: bfloat16BytesToFloat32 },
  LongStorage: { size: 8, dtype: 'I64', make: view(BigInt64Array) },
  IntStorage: { size: 4, dtype: 'I32', make: view(Int32Array) },
  ShortStorage: { size: 2, dtype: 'I16', make: view(Int16Array) },
  CharStorage: { size: 1, dtype: 'I8', make: view(Int8Array) },
  ByteStorage: { size: 1, dtype: 'U8', make: view(Uint8Array) },
  // torch writes bools as bytes 0 and 1; any other byte is read as true, as torch itself does.
  BoolStorage: { size: 1, dtype: 'BOOL', make: (bytes) => { for (let i = 0; i < bytes.length; i++) bytes[i] = bytes[i] ? 1 : 0; return bytes; } },
};

// ---------------------------------------------------------------------------------------------------------
// The values the pickle machine builds

class Global { constructor(readonly module: string, readonly name: string) {} }
class Tuple { constructor(readonly items: Value[]) {} }
class Dict { readonly entries = new Map<string | number, Value>(); }
class Storage { constructor(readonly kind: StorageKind, readonly typeName: string, readonly key: string, readonly numel: number) {} }
class Tensor { constructor(readonly storage: Storage, readonly offset: number, readonly shape: number[], readonly stride: number[]) {} }
type Value = null | boolean | number | bigint | string | Value[] | Global | Tuple | Dict | Storage | Tensor;

const MARK = Symbol('mark');
type Slot = Value | typeof MARK;

const ALLOWED_GLOBALS = new Set([
  'collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_parameter',
  ...Object.keys(STORAGES).map((name) => `torch.${name}`),
]);

// Limits against hostile files: more than any state dict needs, far less than would exhaust memory.
const MAX_STACK = 100_000;
const MAX_MEMO = 10_000_000;

function kindOf(value: Slot): string {
  if (value === MARK) return 'a MARK';
  if (value instanceof Global) return `the global ${value.module}.${value.name}`;
  if (value instanceof Tuple) return `a tuple of ${value.items.length}`;
  if (value instanceof Dict) return `a dict of ${value.entries.size}`;
  if (value instanceof Storage) return `a storage (torch.${value.typeName})`;
  if (value instanceof Tensor) return 'a tensor';
  if (typeof value === 'bigint') return `an int (${value})`;
  if (typeof value === 'number') return Number.isInteger(value) ? `an int (${value})` : `a float (${value})`;
  if (typeof value === 'boolean') return `a bool (${value})`;
  return describe(value);
}

/** The opcodes understood, by byte; anything else is refused by name when known. */
const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT',
  0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE',
  0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND',
  0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET',
  0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2',
  0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME',
  0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

/**
 * Runs the allow-listed pickle in `bytes`; `storage` resolves a persistent id's key to the storage's bytes.
 * Returns the unpickled top-level value.
 */
function unpickle(bytes: Uint8Array, loadStorage: (kind: StorageKind, typeName: string, key: string, numel: number) => Storage): Value {
  const data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const latin1 = new TextDecoder('latin1');
  const stack: Slot[] = [];
  const memo = new Map<number, Value>();
  let at = 0;
  let opAt = 0;
  let op = '';

  const fail = (what: string) => new Error(`${WHERE}: refused data.pkl: ${what} (opcode ${op} at byte ${opAt})`);
  const need = (n: number) => {
    if (at + n > bytes.length) throw fail(`needs ${n} more bytes but the pickle ends at byte ${bytes.length} (truncated?)`);
    const start = at;
    at += n;
    return start;
  };
  const push = (value: Value) => {
    if (stack.length >= MAX_STACK) throw fail(`stack deeper than ${MAX_STACK}`);
    stack.push(value);
  };
  const pop = (): Value => {
    const value = stack.pop();
    if (value === undefined) throw fail('the stack is empty');
    if (value === MARK) throw fail('found a MARK where a value was expected');
    return value;
  };
  const top = (): Value => {
    const value = stack[stack.length - 1];
    if (value === undefined) throw fail('the stack is empty');
    if (value === MARK) throw fail('found a MARK where a value was expected');
    return value;
  };
  const popToMark = (): Value[] => {
    const mark = stack.lastIndexOf(MARK);
    if (mark < 0) throw fail('no MARK on the stack');
    const items = stack.splice(mark) as Value[];
    items.shift();
    return items;
  };
  const put = (index: number) => {
    if (memo.size >= MAX_MEMO && !memo.has(index)) throw fail(`more than ${MAX_MEMO} memo entries`);
    memo.set(index, top());
  };
  const get = (index: number) => {
    if (!memo.has(index)) throw fail(`memo entry ${index} was never stored`);
    push(memo.get(index)!);
  };
  const text = (start: number, length: number) => {
    try {
      return utf8.decode(bytes.subarray(start, start + length));
    } catch {
      throw fail('a string is not valid UTF-8');
    }
  };
  const line = () => {
    const end = bytes.indexOf(0x0a, at);
    if (end < 0) throw fail('a GLOBAL line has no end');
    const value = latin1.decode(bytes.subarray(at, end));
    at = end + 1;
    return value;
  };
  const setItem = (target: Value, key: Value, value: Value) => {
    if (!(target instanceof Dict)) throw fail(`cannot set an item on ${kindOf(target)}`);
    if (typeof key !== 'string' && typeof key !== 'number') throw fail(`a dict key is ${kindOf(key)}; only str and int keys are read`);
    target.entries.set(key, value);
  };
  const count = (value: Value, name: string): number => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw fail(`expected ${name} to be a non-negative int, got ${kindOf(value)}`);
    return value;
  };
  const counts = (value: Value, name: string): number[] => {
    if (!(value instanceof Tuple)) throw fail(`expected ${name} to be a tuple, got ${kindOf(value)}`);
    return value.items.map((item, i) => count(item, `${name}[${i}]`));
  };

  const reduce = (callable: Value, args: Value): Value => {
    if (!(callable instanceof Global)) throw fail(`REDUCE calls ${kindOf(callable)}, not an allowed global`);
    if (!(args instanceof Tuple)) throw fail(`REDUCE arguments are ${kindOf(args)}, not a tuple`);
    const name = `${callable.module}.${callable.name}`;
    const a = args.items;
    if (name === 'collections.OrderedDict') {
      if (a.length !== 0) throw fail(`collections.OrderedDict is called with ${a.length} arguments; only OrderedDict() is read`);
      return new Dict();
    }
    if (name === 'torch._utils._rebuild_tensor_v2') {
      // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
      if (a.length !== 6 && a.length !== 7) throw fail(`${name} is called with ${a.length} arguments, expected 6 or 7`);
      const storage = a[0];
      if (!(storage instanceof Storage)) throw fail(`${name} is given ${kindOf(storage)} instead of a storage`);
      const offset = count(a[1], 'the storage offset');
      const shape = counts(a[2], 'the size');
      const stride = counts(a[3], 'the stride');
      if (stride.length !== shape.length) throw fail(`size (${shape.join(', ')}) and stride (${stride.join(', ')}) differ in length`);
      if (typeof a[4] !== 'boolean') throw fail(`expected requires_grad to be a bool, got ${kindOf(a[4])}`);
      const hooks = a[5];
      if (!(hooks instanceof Dict) || hooks.entries.size !== 0) throw fail(`expected backward_hooks to be an empty OrderedDict, got ${kindOf(hooks)}`);
      if (a.length === 7 && !(a[6] === null || (a[6] instanceof Dict && a[6].entries.size === 0))) {
        throw fail(`expected the tensor metadata to be None or empty, got ${kindOf(a[6])}`);
      }
      // The furthest element must lie inside the storage (a zero-sized tensor reads nothing).
      if (!shape.includes(0)) {
        const last = shape.reduce((sum, n, i) => sum + (n - 1) * stride[i], offset);
        if (!Number.isSafeInteger(last) || last >= storage.numel) {
          throw fail(`a tensor of size (${shape.join(', ')}), stride (${stride.join(', ')}) at offset ${offset} reaches past its storage of ${storage.numel} elements`);
        }
      }
      return new Tensor(storage, offset, shape, stride);
    }
    if (name === 'torch._utils._rebuild_parameter') {
      // (data, requires_grad, backward_hooks): an nn.Parameter saved as such; its tensor is what is kept.
      if (a.length !== 3) throw fail(`${name} is called with ${a.length} arguments, expected 3`);
      if (!(a[0] instanceof Tensor)) throw fail(`${name} is given ${kindOf(a[0])} instead of a tensor`);
      if (!(a[2] instanceof Dict) || a[2].entries.size !== 0) throw fail(`expected backward_hooks to be an empty OrderedDict, got ${kindOf(a[2])}`);
      return a[0];
    }
    throw fail(`REDUCE calls ${name}, which is not callable here`);
  };

  for (;;) {
    opAt = at;
    if (at >= bytes.length) throw fail('the pickle ends without STOP (truncated?)');
    const code = bytes[at++];
    op = OPCODE_NAMES[code] ?? `0x${code.toString(16).padStart(2, '0')}`;
    switch (code) {
      case 0x80: { // PROTO
        const version = bytes[need(1)];
        if (version > 5) throw fail(`pickle protocol ${version} is newer than any Python writes`);
        break;
      }
      case 0x95: need(8); break; // FRAME (protocol 4): a length hint only
      case 0x2e: { // STOP
        const value = pop();
        if (stack.length !== 0) throw fail(`${stack.length} values are left on the stack`);
        if (at !== bytes.length) throw fail(`${bytes.length - at} bytes follow STOP`);
        return value;
      }
      case 0x28: if (stack.length >= MAX_STACK) throw fail(`stack deeper than ${MAX_STACK}`); stack.push(MARK); break;
      case 0x4e: push(null); break;
      case 0x88: push(true); break;
      case 0x89: push(false); break;
      case 0x4a: push(data.getInt32(need(4), true)); break; // BININT
      case 0x4b: push(bytes[need(1)]); break; // BININT1
      case 0x4d: push(data.getUint16(need(2), true)); break; // BININT2
      case 0x8a: { // LONG1: little-endian two's complement
        const n = bytes[need(1)];
        const start = need(n);
        let value = 0n;
        for (let i = n - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[start + i]);
        if (n > 0 && bytes[start + n - 1] & 0x80) value -= 1n << BigInt(8 * n);
        push(value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value);
        break;
      }
      case 0x47: push(data.getFloat64(need(8), false)); break; // BINFLOAT (big-endian)
      case 0x58: { const n = data.getUint32(need(4), true); push(text(need(n), n)); break; } // BINUNICODE
      case 0x8c: { const n = bytes[need(1)]; push(text(need(n), n)); break; } // SHORT_BINUNICODE
      case 0x29: push(new Tuple([])); break; // EMPTY_TUPLE
      case 0x85: { const a = pop(); push(new Tuple([a])); break; } // TUPLE1
      case 0x86: { const b = pop(), a = pop(); push(new Tuple([a, b])); break; } // TUPLE2
      case 0x87: { const c = pop(), b = pop(), a = pop(); push(new Tuple([a, b, c])); break; } // TUPLE3
      case 0x74: push(new Tuple(popToMark())); break; // TUPLE
      case 0x7d: push(new Dict()); break; // EMPTY_DICT
      case 0x5d: push([]); break; // EMPTY_LIST
      case 0x61: { // APPEND
        const value = pop();
        const list = top();
        if (!Array.isArray(list)) throw fail(`cannot append to ${kindOf(list)}`);
        list.push(value);
        break;
      }
      case 0x65: { // APPENDS
        const items = popToMark();
        const list = top();
        if (!Array.isArray(list)) throw fail(`cannot append to ${kindOf(list)}`);
        for (const item of items) list.push(item);
        break;
      }
      case 0x73: { const value = pop(), key = pop(); setItem(top(), key, value); break; } // SETITEM
      case 0x75: { // SETITEMS
        const items = popToMark();
        if (items.length % 2 !== 0) throw fail(`SETITEMS has an odd number (${items.length}) of keys and values`);
        const target = top();
        for (let i = 0; i < items.length; i += 2) setItem(target, items[i], items[i + 1]);
        break;
      }
      case 0x71: put(bytes[need(1)]); break; // BINPUT
      case 0x72: put(data.getUint32(need(4), true)); break; // LONG_BINPUT
      case 0x94: put(memo.size); break; // MEMOIZE
      case 0x68: get(bytes[need(1)]); break; // BINGET
      case 0x6a: get(data.getUint32(need(4), true)); break; // LONG_BINGET
      case 0x63: { // GLOBAL: only names are read here; nothing is imported
        const module = line();
        const name = line();
        const full = `${module}.${name}`;
        if (!ALLOWED_GLOBALS.has(full)) throw fail(`the global ${JSON.stringify(full)} is not allowed (allowed: ${[...ALLOWED_GLOBALS].join(', ')})`);
        push(new Global(module, name));
        break;
      }
      case 0x52: { const args = pop(), callable = pop(); push(reduce(callable, args)); break; } // REDUCE
      case 0x62: { // BUILD: an OrderedDict's instance state (a state dict's `_metadata`), which is not kept
        const state = pop();
        const target = top();
        if (!(target instanceof Dict)) throw fail(`BUILD on ${kindOf(target)}; only a dict's state is read`);
        if (!(state instanceof Dict || state === null)) throw fail(`BUILD with ${kindOf(state)}; only a dict of attributes is read`);
        break;
      }
      case 0x51: { // BINPERSID: ('storage', torch.XStorage, key, location, numel)
        const pid = pop();
        if (!(pid instanceof Tuple) || pid.items.length !== 5 || pid.items[0] !== 'storage') {
          throw fail(`a persistent id is ${kindOf(pid)}; only ('storage', type, key, location, numel) is read`);
        }
        const [, type, key, location, numel] = pid.items;
        if (!(type instanceof Global) || type.module !== 'torch' || !Object.hasOwn(STORAGES, type.name)) {
          throw fail(`a storage has type ${kindOf(type)}; supported: ${Object.keys(STORAGES).map((s) => `torch.${s}`).join(', ')}`);
        }
        if (typeof key !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(key)) throw fail(`a storage key is ${kindOf(key)}`);
        if (typeof location !== 'string') throw fail(`a storage location is ${kindOf(location)}`);
        push(loadStorage(STORAGES[type.name], type.name, key, count(numel, 'the storage size')));
        break;
      }
      default:
        throw fail(OPCODE_NAMES[code] === undefined ? 'unknown opcode' : 'this opcode is not among those a state dict needs');
    }
  }
}

/** The tensor's elements in C order, as host-order bytes, copied out of its (possibly strided) storage. */
function gather(tensor: Tensor, bytes: Uint8Array, swap: boolean): Uint8Array {
  const { storage, offset, shape, stride } = tensor;
  const size = storage.kind.size;
  const total = shape.includes(0) ? 0 : shape.reduce((p, n) => p * n, 1);
  const out = new Uint8Array(total * size);
  const contiguous = shape.every((n, i) => n === 1 || stride[i] === shape.slice(i + 1).reduce((p, m) => p * m, 1));
  if (total === 0) return out;
  if (contiguous) {
    out.set(bytes.subarray(offset * size, (offset + total) * size));
  } else {
    // An odometer over all but the last axis; the last axis is a strided run.
    const dims = shape.length;
    const index = new Array<number>(dims).fill(0);
    const inner = dims === 0 ? 1 : shape[dims - 1];
    const innerStride = dims === 0 ? 0 : stride[dims - 1] * size;
    let base = offset * size;
    let o = 0;
    for (;;) {
      for (let j = 0, src = base; j < inner; j++, src += innerStride) {
        for (let b = 0; b < size; b++) out[o++] = bytes[src + b];
      }
      let axis = dims - 2;
      while (axis >= 0) {
        index[axis]++;
        base += stride[axis] * size;
        if (index[axis] < shape[axis]) break;
        base -= index[axis] * stride[axis] * size;
        index[axis] = 0;
        axis--;
      }
      if (axis < 0) break;
    }
  }
  if (swap) swapBytes(out, size);
  return out;
}

/**
 * Reads a state dict that PyTorch saved with `torch.save(model.state_dict(), path)` (torch >= 1.6, the zip
 * format), without Python: the pickle is read by an allow-listed interpreter that executes nothing.
 *
 * Dtypes: float32 -> F32, float64 -> F64, int64 -> I64 (BigInt64Array), int32 -> I32, int16 -> I16, int8 -> I8,
 * uint8 -> U8, bool -> BOOL (a Uint8Array of 0 and 1, as {@link decodeSafetensors} gives). float16 and bfloat16
 * have no typed array, so they are widened to F32 (a Float32Array, `dtype: 'F32'`): exact, every value kept.
 * Non-contiguous tensors (a transposed view saved as is) and tensors sharing one storage come out as separate,
 * C-ordered copies.
 * @param bytes - the whole `.pt` file.
 * @returns the flat state dict, in the file's order: name -> `{ data, shape, dtype }`, the same shape of value
 *   as the `tensors` of {@link decodeSafetensors}.
 * @throws TypeError if bytes is not a Uint8Array; Error for anything else than a zip-format state dict of
 *   tensors: not a zip (including the legacy pre-1.6 format and garbage), a missing member, an opcode or a
 *   global outside the allow-list (the message names it), a storage type not listed above, a tensor outside
 *   its storage, or a top-level value that is not a dict of str -> tensor.
 * @example
 * const tensors = decodeTorchStateDict(readFileSync('model.pt'));
 * tensors['fc.weight'];   // { data: Float32Array, shape: [2, 3], dtype: 'F32' }
 */
export function decodeTorchStateDict(bytes: Uint8Array): Record<string, DecodedTensor> {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${WHERE}: expected bytes to be a Uint8Array, got ${describe(bytes)}`);
  const notZip = (what: string) => new Error(`${WHERE}: not a torch.save zip archive: ${what}`);
  if (bytes[0] === 0x80 && bytes[1] === 0x02 && bytes[2] === 0x8a && bytes[3] === 0x0a) {
    throw notZip('this is the legacy format (torch < 1.6, or _use_new_zipfile_serialization=False), which is not read; re-save it with a current torch');
  }
  let members: Map<string, Uint8Array>;
  try {
    members = readZip(bytes);
  } catch (cause) {
    throw new Error(`${WHERE}: not a torch.save zip archive: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  const pickles = [...members.keys()].filter((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (pickles.length !== 1) {
    throw notZip(pickles.length === 0 ? `no <name>/data.pkl member (members: ${[...members.keys()].slice(0, 8).join(', ') || 'none'})` : `several data.pkl members (${pickles.join(', ')})`);
  }
  const root = pickles[0].slice(0, -'data.pkl'.length);
  if (members.has(`${root}constants.pkl`) || members.has(`${root}code/__torch__.py`)) {
    throw notZip('this is a TorchScript archive (torch.jit.save), not a torch.save state dict');
  }
  const order = members.get(`${root}byteorder`);
  const orderText = order === undefined ? 'little' : new TextDecoder().decode(order).trim();
  if (orderText !== 'little' && orderText !== 'big') throw notZip(`${root}byteorder says ${JSON.stringify(orderText.slice(0, 20))}, expected "little" or "big"`);
  const swap = (orderText === 'little') !== hostIsLittleEndian();

  const storages = new Map<string, Storage>();
  const loadStorage = (kind: StorageKind, typeName: string, key: string, numel: number): Storage => {
    const known = storages.get(key);
    if (known !== undefined) {
      if (known.kind !== kind) throw new Error(`${WHERE}: storage ${JSON.stringify(key)} is read both as torch.${known.typeName} and as torch.${typeName}`);
      return known;
    }
    const member = members.get(`${root}data/${key}`);
    if (member === undefined) throw new Error(`${WHERE}: the archive has no member ${root}data/${key} for a storage the pickle names`);
    if (member.length < numel * kind.size) {
      throw new Error(`${WHERE}: storage ${root}data/${key} holds ${member.length} bytes, less than ${numel} elements of torch.${typeName} (${numel * kind.size} bytes; truncated?)`);
    }
    const storage = new Storage(kind, typeName, key, numel);
    storages.set(key, storage);
    return storage;
  };

  const value = unpickle(members.get(pickles[0])!, loadStorage);
  if (!(value instanceof Dict)) throw new Error(`${WHERE}: expected the file to hold a state dict (a dict of tensors), got ${kindOf(value)}`);
  const tensors: Record<string, DecodedTensor> = {};
  for (const [name, tensor] of value.entries) {
    if (typeof name !== 'string') throw new Error(`${WHERE}: expected a state dict with str keys, got the key ${name}`);
    if (!(tensor instanceof Tensor)) {
      throw new Error(`${WHERE}: expected a state dict of tensors, but ${JSON.stringify(name)} holds ${kindOf(tensor)} (a training checkpoint? save model.state_dict() alone)`);
    }
    const raw = gather(tensor, members.get(`${root}data/${tensor.storage.key}`)!, swap);
    Object.defineProperty(tensors, name, {
      value: { data: tensor.storage.kind.make(raw), shape: tensor.shape.slice(), dtype: tensor.storage.kind.dtype },
      enumerable: true, writable: true, configurable: true,
    });
  }
  return tensors;
}
