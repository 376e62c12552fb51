import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeCheckpoint, decodeSafetensors, encodeCheckpoint, encodeSafetensors, isCheckpoint, isTensorRecord,
  type Checkpoint, type SafetensorsDtype, type Tensor, type TensorRecord, type TypedArray,
} from '../src/cache/formats/safetensors.js';
import { bytesOf } from './fixtures/util.js';

const ascii = (s: string) => [...new TextEncoder().encode(s)];

/** A file laid out by hand: the header as given (padded with spaces to 8 unless told), then the data. */
function raw(header: unknown, data: ArrayLike<number> = [], pad = true): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const n = pad ? Math.ceil(json.length / 8) * 8 : json.length;
  const out = new Uint8Array(8 + n + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + n);
  out.set(data, 8 + n);
  return out;
}

/** The header of a file, parsed. */
function headerOf(bytes: Uint8Array): { length: number; json: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> } {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { length, json: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))) };
}

// Extremes of every dtype: signed zero, NaN and infinities, the integer limits, BOOL as 0/1 bytes.
const samples: Record<SafetensorsDtype, Tensor> = {
  F64: { data: Float64Array.of(-0, 1.5, -Infinity, Infinity, NaN, 5e-324), shape: [2, 3] },
  F32: { data: Float32Array.of(Math.fround(0.1), -3.5, 3.4028234663852886e38, NaN), shape: [4] },
  I64: { data: BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n), shape: [2, 2] },
  I32: { data: Int32Array.of(-(2 ** 31), 2 ** 31 - 1, 7), shape: [3, 1] },
  I16: { data: Int16Array.of(-32768, 32767), shape: [1, 2] },
  I8: { data: Int8Array.of(-128, 127, 0), shape: [3] },
  U8: { data: Uint8Array.of(0, 255, 9), shape: [1, 1, 3] },
  U64: { data: BigUint64Array.of(0n, 2n ** 64n - 1n), shape: [2] },
  U32: { data: Uint32Array.of(0, 2 ** 32 - 1), shape: [2] },
  U16: { data: Uint16Array.of(0, 65535, 256), shape: [3] },
  BOOL: { data: Uint8Array.of(1, 0, 0, 1), shape: [2, 2], dtype: 'BOOL' },
};

function expectSameTensor(got: { data: TypedArray; shape: number[]; dtype?: string }, want: Tensor, dtype: string): void {
  expect(got.data.constructor).toBe(want.data.constructor);
  expect(bytesOf(got.data)).toEqual(bytesOf(want.data)); // bytes, so -0 and NaN payloads count too
  expect(got.shape).toEqual(want.shape);
  expect(got.dtype).toBe(dtype);
}

describe('encodeSafetensors / decodeSafetensors', () => {
  it('round-trips every dtype, alone and all in one file', () => {
    for (const [dtype, tensor] of Object.entries(samples)) {
      const { tensors } = decodeSafetensors(encodeSafetensors({ t: tensor }));
      expectSameTensor(tensors.t, tensor, dtype);
    }
    const all = decodeSafetensors(encodeSafetensors(samples));
    expect(Object.keys(all.tensors).sort()).toEqual(Object.keys(samples).sort());
    for (const [dtype, tensor] of Object.entries(samples)) expectSameTensor(all.tensors[dtype], tensor, dtype);
    expect(all.metadata).toEqual({});
  });

  it('round-trips empty tensors, 0-d tensors, bare typed arrays, an empty file and a large tensor', () => {
    const tensors = {
      empty: { data: new Float32Array(0), shape: [0] },
      empty3d: { data: new Int16Array(0), shape: [2, 0, 3] },
      scalar: { data: Float64Array.of(3.25), shape: [] },
      bare: Int32Array.of(1, 2, 3),
    };
    const back = decodeSafetensors(encodeSafetensors(tensors)).tensors;
    expect(back.empty).toEqual({ data: new Float32Array(0), shape: [0], dtype: 'F32' });
    expect(back.empty3d).toEqual({ data: new Int16Array(0), shape: [2, 0, 3], dtype: 'I16' });
    expect(back.scalar).toEqual({ data: Float64Array.of(3.25), shape: [], dtype: 'F64' });
    expect(back.bare).toEqual({ data: Int32Array.of(1, 2, 3), shape: [3], dtype: 'I32' });

    expect([...encodeSafetensors({})]).toEqual([8, 0, 0, 0, 0, 0, 0, 0, ...ascii('{}      ')]);
    expect(decodeSafetensors(encodeSafetensors({}))).toEqual({ tensors: {}, metadata: {} });

    const big = Float32Array.from({ length: 1 << 20 }, (_, i) => i * 0.5);
    const bigBack = decodeSafetensors(encodeSafetensors({ big: { data: big, shape: [1024, 1024] } })).tensors.big.data;
    // Buffer.equals rather than toEqual, which takes seconds on a million elements.
    expect(bigBack).toBeInstanceOf(Float32Array);
    expect(Buffer.from(bytesOf(bigBack)).equals(Buffer.from(bytesOf(big)))).toBe(true);
  });

  it('keeps metadata, unicode included', () => {
    const metadata = { format: 'pt', note: 'héllo 日本 😀', empty: '', '': 'blank key' };
    const bytes = encodeSafetensors({ w: Float32Array.of(1) }, metadata);
    expect(decodeSafetensors(bytes).metadata).toEqual(metadata);
    expect(decodeSafetensors(encodeSafetensors({}, { a: 'b' }))).toEqual({ tensors: {}, metadata: { a: 'b' } });
  });

  it('lays a tiny file out byte by byte as the reference writer does', () => {
    const bytes = encodeSafetensors({ z: { data: Float32Array.of(1.5), shape: [1] }, a: { data: Uint8Array.of(7), shape: [] } }, { k: 'v' });
    // Counted by hand: {"__metadata__":{"k":"v"}, = 26, "z": = 4, {"dtype":"F32", = 15, "shape":[1], = 12,
    // "data_offsets":[0,4] = 20, }, = 2, "a": = 4, {"dtype":"U8", = 14, "shape":[], = 11,
    // "data_offsets":[4,5] = 20, }} = 2: 130 bytes, padded with 6 spaces to 136 = 17 * 8.
    // F32 (4 bytes) goes before U8 (1 byte) although "a" < "z": larger items first keeps them aligned.
    const json = '{"__metadata__":{"k":"v"},"z":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"U8","shape":[],"data_offsets":[4,5]}}';
    expect(json.length).toBe(130);
    const expected = [
      136, 0, 0, 0, 0, 0, 0, 0, // u64 little-endian header length
      ...ascii(json), 32, 32, 32, 32, 32, 32,
      0x00, 0x00, 0xc0, 0x3f, // 1.5f = 0x3fc00000, little-endian
      0x07,
    ];
    expect(expected.length).toBe(149);
    expect([...bytes]).toEqual(expected);
  });

  it('aligns every tensor to its item size, ordered by item size then name', () => {
    const bytes = encodeSafetensors({
      a: Uint8Array.of(1, 2, 3), c: Int16Array.of(4), d: Float32Array.of(5), b: Float64Array.of(6, 7), e: BigInt64Array.of(8n),
      m: { data: Uint8Array.of(1), shape: [1], dtype: 'BOOL' },
    });
    const { length, json } = headerOf(bytes);
    expect(length % 8).toBe(0);
    const order = Object.keys(json).sort((x, y) => json[x].data_offsets[0] - json[y].data_offsets[0]);
    expect(order).toEqual(['b', 'e', 'd', 'c', 'a', 'm']);
    const sizes: Record<string, number> = { F64: 8, I64: 8, F32: 4, I16: 2, U8: 1, BOOL: 1 };
    for (const name of order) expect((8 + length + json[name].data_offsets[0]) % sizes[json[name].dtype]).toBe(0);
    expect(encodeSafetensors({ x: Float32Array.of(1), y: Int8Array.of(2) })).toEqual(encodeSafetensors({ y: Int8Array.of(2), x: Float32Array.of(1) }));
  });

  it('decodes into fresh, aligned copies, from any offset of any buffer', () => {
    const file = encodeSafetensors({ w: Float64Array.of(1, 2), i: Int8Array.of(3) });
    const shifted = new Uint8Array(file.length + 3).subarray(3);
    shifted.set(file);
    const { tensors } = decodeSafetensors(shifted);
    expect(tensors.w.data).toEqual(Float64Array.of(1, 2));
    expect(tensors.w.data.byteOffset).toBe(0);
    expect(tensors.w.data.buffer.byteLength).toBe(16);
    shifted.fill(0);
    expect(tensors.w.data).toEqual(Float64Array.of(1, 2));
  });

  it('refuses bad tensors and metadata on encode', () => {
    const w = Float32Array.of(1, 2, 3);
    const encode = (t: unknown, m?: unknown) => () => encodeSafetensors(t as Record<string, Tensor>, m as Record<string, string>);
    expect(encode({ '': w })).toThrow(new RangeError('encodeSafetensors: expected tensor names to be non-empty, got ""'));
    expect(encode({ __metadata__: w })).toThrow(RangeError);
    expect(encode({ __metadata__: w })).toThrow(/reserved/);
    expect(encode({ w: { data: w, shape: [2, 2] } })).toThrow(
      new RangeError('encodeSafetensors: expected tensors.w.shape [2, 2] (4 elements) to match tensors.w.data, got length 3'),
    );
    expect(encode({ 'a.b': { data: w, shape: [3, -1] } })).toThrow(/tensors\["a\.b"\]\.shape\[1\] to be a non-negative integer, got -1/);
    expect(encode({ w: { data: w, shape: [1.5] } })).toThrow(RangeError);
    expect(encode({ w: { data: w, shape: 3 } })).toThrow(TypeError);
    expect(encode({ w: { data: [1, 2, 3], shape: [3] } })).toThrow(TypeError);
    expect(encode({ w: new Uint8ClampedArray(2) })).toThrow(/expected tensors\.w to be a Float64Array, .* got a Uint8ClampedArray/);
    expect(encode({ w: new DataView(new ArrayBuffer(4)) })).toThrow(TypeError);
    expect(encode({ w: { data: w, shape: [3], extra: 1 } })).toThrow(TypeError);
    expect(encode({ w: { data: w, shape: [3], dtype: 'F64' } })).toThrow(/tensors\.w\.dtype to be "F32" for a Float32Array, got "F64"/);
    expect(encode({ w: { data: Int8Array.of(1), shape: [1], dtype: 'BOOL' } })).toThrow(RangeError);
    expect(encode({ w: { data: Uint8Array.of(1), shape: [1], dtype: 'F16' } })).toThrow(/dtype to be one of F64, /);
    expect(encode({ w: { data: Uint8Array.of(1, 2), shape: [2], dtype: 'BOOL' } })).toThrow(/only 0 and 1 for dtype BOOL, got 2 at index 1/);
    expect(encode({ w }, { a: 1 })).toThrow(new TypeError('encodeSafetensors: expected metadata.a to be a string, got 1'));
    expect(encode({ w }, 'x')).toThrow(TypeError);
    expect(encode(w)).toThrow(TypeError);
    expect(encode(null)).toThrow(TypeError);
  });

  it('refuses damaged files on decode with a clear Error', () => {
    const good = encodeSafetensors({ a: Float32Array.of(1, 2), b: Uint8Array.of(3) });
    const bad = (bytes: Uint8Array, message: RegExp) => {
      expect(() => decodeSafetensors(bytes)).toThrow(message);
      expect(() => decodeSafetensors(bytes)).toThrow(/^decodeSafetensors: not a valid safetensors file: /);
    };
    const f32 = (offsets: unknown, shape: unknown = [1]) => ({ dtype: 'F32', shape, data_offsets: offsets });

    bad(new Uint8Array(7), /expected at least 8 bytes \(the header length\), got 7/);
    bad(good.subarray(0, good.length - 1), /tensor "b" has data_offsets \[8, 9\] past the end of the 8-byte data section \(truncated\?\)/);
    bad(good.subarray(0, 20), /header length \d+ runs past the end of the 20-byte file \(truncated\?\)/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 63n, true);
    bad(huge, /header length 9223372036854775808 exceeds the 100000000-byte limit/);
    new DataView(huge.buffer).setBigUint64(0, 100_000_001n, true);
    bad(huge, /exceeds the 100000000-byte limit/);
    new DataView(huge.buffer).setBigUint64(0, 100_000_000n, true);
    bad(huge, /runs past the end of the 16-byte file/);

    bad(raw('{"a":', [], false), /the 5-byte header is not UTF-8 JSON/);
    bad(raw(new Uint8Array([0x7b, 0xff, 0x7d]) && '["x"]'), /expected the header to be a JSON object, got an array/);
    const invalidUtf8 = raw('{"a":1}');
    invalidUtf8[10] = 0xff;
    bad(invalidUtf8, /header is not UTF-8 JSON/);

    bad(raw({ h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, [0, 0, 0, 0]), /tensor "h" has dtype "F16", which this reader does not support \(supported: F64, F32, I64, I32, I16, I8, U8, U64, U32, U16, BOOL\)/);
    bad(raw({ h: { shape: [1], data_offsets: [0, 1] } }, [0]), /tensor "h" has dtype undefined/);
    bad(raw({ a: f32([4, 0]) }, [0, 0, 0, 0]), /data_offsets \[begin, end\] with 0 <= begin <= end, got \[4,0\]/);
    bad(raw({ a: f32([-4, 0]) }, [0, 0, 0, 0]), /got \[-4,0\]/);
    bad(raw({ a: f32([0, 4, 8]) }, [0, 0, 0, 0]), /got \[0,4,8\]/);
    bad(raw({ a: f32([0, 4.5]) }, [0, 0, 0, 0]), /got \[0,4\.5\]/);
    bad(raw({ a: f32([0, 8]) }, [0, 0, 0, 0]), /data_offsets \[0, 8\] past the end of the 4-byte data section/);
    bad(raw({ a: f32([0, 4], [2]) }, [0, 0, 0, 0]), /tensor "a" has shape \[2\] of F32 \(8 bytes\) but data_offsets \[0, 4\] \(4 bytes\)/);
    bad(raw({ a: f32([0, 4], [1, -1]) }, [0, 0, 0, 0]), /shape of non-negative integers, got \[1,-1\]/);
    bad(raw({ a: f32([0, 8], [2]), b: f32([4, 8]) }, new Array(8).fill(0)), /tensor "b" at \[4, 8\) overlaps tensor "a", which ends at 8/);
    bad(raw({ a: f32([0, 4]), b: f32([0, 4]) }, [0, 0, 0, 0]), /overlaps tensor "a", which ends at 4/);
    bad(raw({ a: f32([0, 4]), b: f32([8, 12]) }, new Array(12).fill(0)), /gap of 4 bytes before tensor "b" at \[8, 12\)/);
    bad(raw({ b: f32([4, 8]) }, new Array(8).fill(0)), /gap of 4 bytes before tensor "b"/);
    bad(raw({ a: f32([0, 4]) }, new Array(8).fill(0)), /4 bytes after the last tensor \(tensors end at 4 of 8\)/);
    bad(raw({ __metadata__: { a: 1 } }), /__metadata__\["a"\] to be a string, got 1/);
    bad(raw({ __metadata__: ['x'] }), /__metadata__ to be an object of strings/);
    bad(raw({ a: 'F32' }), /tensor "a" to be described by an object, got "F32"/);
    expect(() => decodeSafetensors([1, 2] as unknown as Uint8Array)).toThrow(TypeError);

    // What the reference also accepts: an unpadded header, zero-length tensors sharing an offset.
    expect(decodeSafetensors(raw({ a: f32([0, 4]) }, [0x00, 0x00, 0x80, 0x3f], false)).tensors.a.data).toEqual(Float32Array.of(1));
    const zeros = decodeSafetensors(raw({ z1: f32([4, 4], [0]), a: f32([0, 4]), z2: f32([4, 4], [0, 2]) }, [0, 0, 0, 0])).tensors;
    expect(zeros.z2).toEqual({ data: new Float32Array(0), shape: [0, 2], dtype: 'F32' });
  });
});

// A checkpoint as a PyTorch training loop saves one: nested module state, BatchNorm's int64 counter,
// Adam state keyed by parameter index (tensors and plain numbers), param_groups of hyper-parameters.
function sampleCheckpoint(): Checkpoint {
  return {
    model_state_dict: {
      'embed.weight': { data: Float32Array.from({ length: 12 }, (_, i) => i / 3), shape: [4, 3] },
      layer1: { weight: { data: Float64Array.of(1, 2, 3, 4, 5, 6), shape: [2, 3] }, bias: Float64Array.of(0.5, -0.5) },
      bn: { running_mean: new Float32Array(2), num_batches_tracked: { data: BigInt64Array.of(42n), shape: [] } },
      mask: { data: Uint8Array.of(1, 0, 1), shape: [3], dtype: 'BOOL' },
    },
    optimizer_state_dict: {
      state: {
        0: { step: { data: Float32Array.of(10), shape: [] }, exp_avg: new Float32Array(12), exp_avg_sq: new Float32Array(12).fill(1e-8) },
        1: { step: 10, momentum_buffer: null },
      },
      param_groups: [{ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, amsgrad: false, foreach: null, params: [0, 1] }],
    },
    epoch: 10,
    loss: 0.0314,
    scheduler: { name: 'cosine', t_max: 100 },
    history: [Float64Array.of(0.9, 0.5), { best: 0.0314 }, 'done'],
    note: 'résumé',
  };
}

describe('encodeCheckpoint / decodeCheckpoint', () => {
  it('round-trips a checkpoint: nested state dicts, optimizer state, epoch, loss, other fields', () => {
    const checkpoint = sampleCheckpoint();
    const bytes = encodeCheckpoint(checkpoint);
    const back = decodeCheckpoint(bytes) as Checkpoint;
    expect(back).toEqual(checkpoint);
    expect(Object.keys(back)).toEqual(Object.keys(checkpoint));
    const model = back.model_state_dict as Record<string, Record<string, unknown>>;
    expect(model.layer1.bias).toBeInstanceOf(Float64Array);
    expect((model.bn.num_batches_tracked as Tensor).data).toBeInstanceOf(BigInt64Array);
    expect((back.history as unknown[])[0]).toBeInstanceOf(Float64Array);
    expect(model.mask).toEqual({ data: Uint8Array.of(1, 0, 1), shape: [3], dtype: 'BOOL' });

    // Seen from any safetensors reader: PyTorch names, and the plain fields as JSON text in the metadata.
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(Object.keys(tensors).sort()).toEqual([
      'history.0', 'model_state_dict.bn.num_batches_tracked', 'model_state_dict.bn.running_mean', 'model_state_dict.embed.weight',
      'model_state_dict.layer1.bias', 'model_state_dict.layer1.weight', 'model_state_dict.mask',
      'optimizer_state_dict.state.0.exp_avg', 'optimizer_state_dict.state.0.exp_avg_sq', 'optimizer_state_dict.state.0.step',
    ]);
    expect(tensors['model_state_dict.mask'].dtype).toBe('BOOL');
    expect(metadata).toMatchObject({ epoch: '10', loss: '0.0314', scheduler: '{"name":"cosine","t_max":100}', note: '"résumé"' });
    expect(JSON.parse(metadata['dase_cache.structure']).version).toBe(1);
    expect(encodeCheckpoint(sampleCheckpoint())).toEqual(bytes);
  });

  it('round-trips bare state dicts, flat and nested, keeping flat names as they are', () => {
    const flat: TensorRecord = { 'layer1.weight': { data: new Float32Array(6), shape: [2, 3] }, 'layer1.bias': Float32Array.of(1, 2), 'n.count': BigUint64Array.of(7n) };
    const bytes = encodeCheckpoint(flat);
    expect(decodeCheckpoint(bytes)).toEqual(flat);
    expect(Object.keys(decodeSafetensors(bytes).tensors).sort()).toEqual(['layer1.bias', 'layer1.weight', 'n.count']);
    const nested: TensorRecord = { encoder: { 0: { weight: Int8Array.of(1) }, 1: { weight: Int8Array.of(2) } }, head: Uint16Array.of(3) };
    expect(decodeCheckpoint(encodeCheckpoint(nested))).toEqual(nested);
  });

  it('gives unique names when paths collide or are reserved, and still round-trips', () => {
    const record: TensorRecord = { 'a.b': Float32Array.of(1), a: { b: Float32Array.of(2) }, '': Int8Array.of(3), __metadata__: Int8Array.of(4) };
    Object.defineProperty(record, '__proto__', { value: Int8Array.of(5), enumerable: true, writable: true, configurable: true });
    const bytes = encodeCheckpoint(record);
    expect(Object.keys(decodeSafetensors(bytes).tensors).sort()).toEqual(['__metadata__~1', '__proto__', 'a.b', 'a.b~1', '~1']);
    const back = decodeCheckpoint(bytes) as Record<string, unknown>;
    expect(back).toEqual(record);
    expect(Object.hasOwn(back, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    // The same for a plain field of a checkpoint, which goes to the metadata under its own name.
    const checkpoint = JSON.parse('{"__proto__": {"lr": 0.1}, "dase_cache.structure": 1}') as Checkpoint;
    checkpoint.model_state_dict = { w: Float32Array.of(1) };
    const decoded = decodeCheckpoint(encodeCheckpoint(checkpoint)) as Record<string, unknown>;
    expect(Object.getOwnPropertyDescriptor(decoded, '__proto__')?.value).toEqual({ lr: 0.1 });
    expect(decoded['dase_cache.structure']).toBe(1);
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
  });

  it('reads a file written without structure as its flat state dict', () => {
    const bytes = encodeSafetensors({ 'fc.weight': { data: Float32Array.of(1, 2), shape: [1, 2] } }, { format: 'pt' });
    expect(decodeCheckpoint(bytes)).toEqual({ 'fc.weight': { data: Float32Array.of(1, 2), shape: [1, 2], dtype: 'F32' } });
  });

  it('refuses what it cannot store, naming the path', () => {
    const w = Float32Array.of(1);
    const encode = (value: unknown) => () => encodeCheckpoint(value as Checkpoint);
    expect(encode({ model_state_dict: { w }, loss: NaN })).toThrow(/^encodeCheckpoint: expected a tensor or plain JSON at value\.loss, got NaN/);
    expect(encode({ model_state_dict: { w }, optimizer_state_dict: undefined })).toThrow(/at value\.optimizer_state_dict, got undefined/);
    expect(encode({ model_state_dict: { w }, optimizer_state_dict: { param_groups: [{ lr_lambda: () => 1 }] } }))
      .toThrow(/at value\.optimizer_state_dict\.param_groups\[0\]\.lr_lambda, got a function/);
    expect(encode({ model_state_dict: { w }, saved_at: new Date(0) })).toThrow(/at value\.saved_at, got an instance of Date/);
    const cyclic: Record<string, unknown> = { lr: 1 };
    cyclic.self = cyclic;
    expect(encode({ model_state_dict: { w }, optimizer_state_dict: cyclic })).toThrow(/at value\.optimizer_state_dict\.self, got a cycle/);
    expect(encode({ model_state_dict: { w: [1, 2] } })).toThrow(/a tensor or a record of tensors at value\.model_state_dict\.w, got an array of length 2/);
    expect(encode({ model_state_dict: w })).toThrow(/value\.model_state_dict to be a record of tensors/);
    expect(encode({ w, epoch: 3 })).toThrow(/at value\.epoch, got 3 \(fields other than tensors need a checkpoint with a model_state_dict\)/);
    expect(encode({ model_state_dict: { w: { data: w, shape: [2] } } }))
      .toThrow(new RangeError('encodeCheckpoint: expected value.model_state_dict.w.shape [2] (2 elements) to match value.model_state_dict.w.data, got length 1'));
    expect(encode({ model_state_dict: { w: new Uint8ClampedArray(1) } })).toThrow(TypeError);
    expect(encode({})).toThrow(/got no tensors/);
    expect(encode(w)).toThrow(TypeError);
    for (const value of [null, [w], 'x']) expect(encode(value)).toThrow(TypeError);
  });

  it('refuses a structure that does not match the file', () => {
    const structure = (root: unknown) => ({ 'dase_cache.structure': JSON.stringify({ version: 1, root }) });
    const w = Float32Array.of(1);
    const bad = (tensors: Record<string, TypedArray>, metadata: Record<string, string>, message: RegExp) =>
      expect(() => decodeCheckpoint(encodeSafetensors(tensors, metadata))).toThrow(message);
    bad({ w }, structure({ object: { x: { tensor: 'x', form: 'array' } } }), /value\.x names tensor "x", which the file does not hold/);
    bad({ w }, structure({ object: {} }), /tensor "w" is not part of the structure/);
    bad({ w }, structure({ object: { a: { tensor: 'w', form: 'array' }, b: { tensor: 'w', form: 'nd' } } }), /tensor "w" is named twice/);
    bad({ w }, structure({ object: { a: { tensor: 'w', form: 'sparse' } } }), /unknown tensor form "sparse"/);
    bad({ w }, structure({ object: { a: { meta: 'epoch' }, w: { tensor: 'w', form: 'array' } } }), /refers to metadata "epoch", which the file does not hold/);
    bad({ w }, structure({ array: [] }), /expected the root to be an object node/);
    bad({ w }, { 'dase_cache.structure': '{' }, /damaged checkpoint structure .*: not valid JSON/);
    bad({ w }, { 'dase_cache.structure': '{"version":2}' }, /expected \{ version: 1, root \}, got version 2/);
  });

  it('predicates say what encodeCheckpoint accepts, without throwing', () => {
    const w = Float32Array.of(1, 2);
    const yesRecord = [{ w }, { fc: { w } }, { w: { data: w, shape: [2, 1] } }, { m: { data: Uint8Array.of(1), shape: [], dtype: 'BOOL' } }];
    const noRecord = [{}, { epoch: 1 }, { w, epoch: 1 }, w, null, [w], { w: { data: w, shape: [3] } }, { w: new Uint8ClampedArray(1) }];
    for (const value of yesRecord) expect(isTensorRecord(value)).toBe(true);
    for (const value of noRecord) expect(isTensorRecord(value)).toBe(false);
    const yesCheckpoint = [{ model_state_dict: { w } }, sampleCheckpoint(), { model_state_dict: {}, epoch: 1 }];
    const noCheckpoint = [{ w }, { model_state_dict: { w: 1 } }, { model_state_dict: w }, { model_state_dict: { w }, loss: NaN }, { model_state_dict: { w }, f: () => 1 }];
    for (const value of yesCheckpoint) expect(isCheckpoint(value)).toBe(true);
    for (const value of noCheckpoint) expect(isCheckpoint(value)).toBe(false);
  });
});

// Reads our files the way the safetensors package does (struct + json + numpy.frombuffer), and writes one the
// way its writer does (sorted by alignment then name, header padded with spaces), for us to read.
const PYTHON = String.raw`
import json, math, struct, sys
import numpy as np
DT = {'F64': '<f8', 'F32': '<f4', 'I64': '<i8', 'I32': '<i4', 'I16': '<i2', 'I8': 'i1', 'U8': 'u1',
      'U64': '<u8', 'U32': '<u4', 'U16': '<u2', 'BOOL': '?'}

def plain(v):
    if isinstance(v, bool): return v
    if isinstance(v, int): return str(v)
    return v if math.isfinite(v) else str(v)

def read(path):
    buf = open(path, 'rb').read()
    n, = struct.unpack('<Q', buf[:8])
    assert n % 8 == 0 and buf[8:8 + n].decode('utf-8').rstrip(' ').endswith('}'), 'header padded with spaces to 8'
    header = json.loads(buf[8:8 + n])
    out = {'metadata': header.pop('__metadata__', {}), 'tensors': {}}
    for name, info in header.items():
        begin, end = info['data_offsets']
        dt = np.dtype(DT[info['dtype']])
        assert (8 + n + begin) % dt.itemsize == 0, name + ' is aligned'
        a = np.frombuffer(buf[8 + n + begin:8 + n + end], dtype=dt).reshape(info['shape'])
        out['tensors'][name] = {'dtype': info['dtype'], 'shape': list(a.shape), 'values': [plain(v) for v in a.ravel().tolist()]}
    return out

def write(path, tensors, metadata):
    order = sorted(tensors, key=lambda k: (-np.dtype(DT[tensors[k][0]]).itemsize, k))
    header, offset = {'__metadata__': metadata}, 0
    for k in order:
        size = tensors[k][1].nbytes
        header[k] = {'dtype': tensors[k][0], 'shape': list(tensors[k][1].shape), 'data_offsets': [offset, offset + size]}
        offset += size
    h = json.dumps(header, separators=(',', ':')).encode('utf-8')
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(tensors[k][1].astype(DT[tensors[k][0]]).tobytes() for k in order))
    return {k: {'dtype': d, 'shape': list(a.shape), 'values': [plain(v) for v in a.ravel().tolist()]} for k, (d, a) in tensors.items()}

theirs = {
    'weight': ('F32', np.arange(6, dtype='<f4').reshape(2, 3) / 4),
    'big': ('I64', np.array([-(2 ** 63), 2 ** 63 - 1], dtype='<i8')),
    'mask': ('BOOL', np.array([[True, False, True]])),
    'scalar': ('F64', np.array(-0.0)),
    'empty': ('I16', np.zeros((0, 3), dtype='<i2')),
    'u': ('U16', np.array([65535, 1], dtype='<u2')),
    'b': ('U8', np.array([1, 2, 3], dtype='u1')),
}
print(json.dumps({'ours': [read(p) for p in sys.argv[2:]],
                  'theirs': write(sys.argv[1], theirs, {'format': 'pt', 'note': 'h\u00e9llo'})}))
`;

type PyTensor = { dtype: string; shape: number[]; values: Array<number | string | boolean> };

function expectValues(data: TypedArray, dtype: string, values: PyTensor['values']): void {
  expect(data.length).toBe(values.length);
  data.forEach((x: number | bigint, i: number) => {
    const v = values[i];
    if (dtype === 'BOOL') expect(v).toBe(x === 1);
    else if (typeof x === 'bigint' || /^[IU]/.test(dtype)) expect(v).toBe(String(x));
    else expect(Object.is(x, typeof v === 'string' ? Number(v.replace('inf', 'Infinity').replace('nan', 'NaN')) : v), `${dtype}[${i}]: ${x} vs ${v}`).toBe(true);
  });
}

describe('interop with the reference layout (python3 + numpy)', () => {
  const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

  it('numpy reads our files, and we read a file laid out as the safetensors writer does', ({ skip }) => {
    skip(!hasNumpy, 'python3 with numpy not found: the interop check with numpy.frombuffer is skipped');
    const dir = mkdtempSync(join(tmpdir(), 'dase-safetensors-'));
    try {
      const ours = join(dir, 'ours.safetensors');
      const checkpoint = join(dir, 'checkpoint.safetensors');
      const theirs = join(dir, 'theirs.safetensors');
      const metadata = { format: 'pt', note: 'héllo 😀' };
      writeFileSync(ours, encodeSafetensors({ ...samples, scalar: { data: Int32Array.of(-5), shape: [] }, empty: { data: new Float64Array(0), shape: [3, 0] } }, metadata));
      writeFileSync(checkpoint, encodeCheckpoint(sampleCheckpoint()));
      const run = spawnSync('python3', ['-c', PYTHON, theirs, ours, checkpoint], { encoding: 'utf8', timeout: 60_000 });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const result = JSON.parse(run.stdout) as { ours: Array<{ metadata: Record<string, string>; tensors: Record<string, PyTensor> }>; theirs: Record<string, PyTensor> };

      const [fromOurs, fromCheckpoint] = result.ours;
      expect(fromOurs.metadata).toEqual(metadata);
      expect(fromOurs.tensors.scalar).toEqual({ dtype: 'I32', shape: [], values: ['-5'] });
      expect(fromOurs.tensors.empty).toEqual({ dtype: 'F64', shape: [3, 0], values: [] });
      for (const [dtype, tensor] of Object.entries(samples)) {
        expect(fromOurs.tensors[dtype].dtype).toBe(dtype);
        expect(fromOurs.tensors[dtype].shape).toEqual(tensor.shape);
        expectValues(tensor.data, dtype, fromOurs.tensors[dtype].values);
      }
      expect(fromCheckpoint.metadata.epoch).toBe('10');
      expect(fromCheckpoint.tensors['model_state_dict.layer1.weight']).toEqual({ dtype: 'F64', shape: [2, 3], values: [1, 2, 3, 4, 5, 6] });
      expect(fromCheckpoint.tensors['model_state_dict.bn.num_batches_tracked']).toEqual({ dtype: 'I64', shape: [], values: ['42'] });

      const decoded = decodeSafetensors(new Uint8Array(readFileSync(theirs)));
      expect(decoded.metadata).toEqual({ format: 'pt', note: 'héllo' });
      expect(Object.keys(decoded.tensors).sort()).toEqual(Object.keys(result.theirs).sort());
      for (const [name, want] of Object.entries(result.theirs)) {
        const got = decoded.tensors[name];
        expect(got.dtype).toBe(want.dtype);
        expect(got.shape).toEqual(want.shape);
        expectValues(got.data, want.dtype, want.values);
      }
      expect(decoded.tensors.big.data).toEqual(BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n));
      expect(Object.is(decoded.tensors.scalar.data[0], -0)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
