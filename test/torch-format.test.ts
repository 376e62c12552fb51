// decodeTorchStateDict: state dicts that torch.save wrote (fixtures made at test time by Debian's python3-torch
// through test/fixtures/make_torch_fixtures.py; skipped without it), and hand-made pickles that must be refused.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecodedTensor } from '../src/cache/formats/safetensors.js';
import { decodeTorchStateDict } from '../src/cache/formats/torch.js';
import { writeZip } from '../src/cache/formats/zip.js';

const PYTHON = '/usr/bin/python3';
const GENERATOR = join(__dirname, 'fixtures', 'make_torch_fixtures.py');

const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8', timeout: 60_000 });
const haveTorch = probe.status === 0;
if (!haveTorch) {
  console.warn(`torch-format: skipping the torch.save fixture tests: needs Debian's python3-torch for ${PYTHON} `
    + `(\`${PYTHON} -c "import torch"\` failed: ${(probe.error?.message ?? probe.stderr ?? '').trim().split('\n').pop()})`);
}

// ---------------------------------------------------------------------------------------------------------
// Hand-made archives

const enc = new TextEncoder();
const u32 = (n: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n, true); return [...b]; };
/** Pickle pieces: strings as BINUNICODE, GLOBAL lines, raw opcodes. */
const str = (s: string) => { const b = enc.encode(s); return [0x58, ...u32(b.length), ...b]; };
const global = (module: string, name: string) => [0x63, ...enc.encode(`${module}\n${name}\n`)];
const int = (n: number) => [0x4b, n];
const PROTO2 = [0x80, 0x02], MARK = 0x28, TUPLE = 0x74, TUPLE2 = 0x86, TUPLE1 = 0x85, EMPTY_TUPLE = 0x29;
const REDUCE = 0x52, BINPERSID = 0x51, SETITEMS = 0x75, NEWFALSE = 0x89, STOP = 0x2e;
const ordered = () => [...global('collections', 'OrderedDict'), EMPTY_TUPLE, REDUCE];

/** `_rebuild_tensor_v2(storage(type, key, numel), offset, size, stride, False, OrderedDict())` as pickle bytes. */
function tensor(type: string, key: string, numel: number, offset: number, size: number[], stride: number[]): number[] {
  const tuple = (xs: number[]) => [MARK, ...xs.flatMap(int), TUPLE];
  return [
    ...global('torch._utils', '_rebuild_tensor_v2'),
    MARK,
    MARK, ...str('storage'), ...global('torch', type), ...str(key), ...str('cpu'), ...int(numel), TUPLE, BINPERSID,
    ...int(offset), ...tuple(size), ...tuple(stride), NEWFALSE, ...ordered(),
    TUPLE, REDUCE,
  ];
}

/** A torch.save-like archive: `archive/data.pkl` and `archive/data/<key>` members. */
function archive(pickle: number[], storages: Record<string, Uint8Array> = {}, extra: Record<string, string> = {}): Uint8Array {
  return writeZip([
    { name: 'archive/data.pkl', parts: [Uint8Array.from(pickle)] },
    ...Object.entries(storages).map(([key, data]) => ({ name: `archive/data/${key}`, parts: [data] })),
    ...Object.entries(extra).map(([name, text]) => ({ name: `archive/${name}`, parts: [enc.encode(text)] })),
    { name: 'archive/version', parts: [enc.encode('3\n')] },
  ], { deflate: false });
}

const f32 = (...xs: number[]) => new Uint8Array(Float32Array.from(xs).buffer);

describe('decodeTorchStateDict on hand-made archives', () => {
  it('reads a minimal state dict, applying offset and stride', () => {
    const pickle = [...PROTO2, ...ordered(), MARK,
      ...str('w'), ...tensor('FloatStorage', '0', 6, 1, [2, 2], [1, 2]),
      ...str('b'), ...tensor('FloatStorage', '0', 6, 5, [], []),
      SETITEMS, STOP];
    const out = decodeTorchStateDict(archive(pickle, { '0': f32(0, 1, 2, 3, 4, 5) }));
    expect(Object.keys(out)).toEqual(['w', 'b']);
    expect(out.w).toEqual({ data: Float32Array.of(1, 3, 2, 4), shape: [2, 2], dtype: 'F32' });
    expect(out.b).toEqual({ data: Float32Array.of(5), shape: [], dtype: 'F32' });
    expect(out.w.data.buffer).not.toBe(out.b.data.buffer);
  });

  it('reads byteorder "big" storages (torch >= 2.1 on a big-endian machine)', () => {
    const big = new Uint8Array(8);
    new DataView(big.buffer).setInt32(0, -2, false);
    new DataView(big.buffer).setInt32(4, 70000, false);
    const pickle = [...PROTO2, ...ordered(), MARK, ...str('x'), ...tensor('IntStorage', '0', 2, 0, [2], [1]), SETITEMS, STOP];
    const out = decodeTorchStateDict(archive(pickle, { '0': big }, { byteorder: 'big' }));
    expect(out.x).toEqual({ data: Int32Array.of(-2, 70000), shape: [2], dtype: 'I32' });
  });

  it('keeps a "__proto__" key as an own entry', () => {
    const pickle = [...PROTO2, ...ordered(), MARK, ...str('__proto__'), ...tensor('ByteStorage', '0', 1, 0, [1], [1]), SETITEMS, STOP];
    const out = decodeTorchStateDict(archive(pickle, { '0': Uint8Array.of(7) }));
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });

  it('refuses a pickle calling a global outside the allow-list, naming it', () => {
    // The classic exploit: os.system('ls'). Refused at the GLOBAL opcode, before anything is built.
    const pickle = [...PROTO2, ...global('os', 'system'), ...str('ls'), TUPLE1, REDUCE, STOP];
    expect(() => decodeTorchStateDict(archive(pickle))).toThrow(/the global "os\.system" is not allowed.*opcode GLOBAL at byte 2/);
    const builtins = [...PROTO2, ...global('builtins', 'eval'), ...str('1+1'), TUPLE1, REDUCE, STOP];
    expect(() => decodeTorchStateDict(archive(builtins))).toThrow(/"builtins\.eval" is not allowed/);
  });

  it('refuses opcodes outside the state-dict subset, naming them', () => {
    const inst = [...PROTO2, MARK, 0x69, ...enc.encode('os\nsystem\n'), STOP]; // INST
    expect(() => decodeTorchStateDict(archive(inst))).toThrow(/opcode INST at byte 3/);
    const stackGlobal = [...PROTO2, ...str('os'), ...str('system'), 0x93, STOP]; // STACK_GLOBAL
    expect(() => decodeTorchStateDict(archive(stackGlobal))).toThrow(/not among those a state dict needs \(opcode STACK_GLOBAL/);
    expect(() => decodeTorchStateDict(archive([...PROTO2, 0xff]))).toThrow(/unknown opcode \(opcode 0xff at byte 2\)/);
  });

  it('refuses calling an allowed name that is not a function here, and other storage types', () => {
    const callStorage = [...PROTO2, ...global('torch', 'FloatStorage'), EMPTY_TUPLE, REDUCE, STOP];
    expect(() => decodeTorchStateDict(archive(callStorage))).toThrow(/REDUCE calls torch\.FloatStorage, which is not callable here/);
    const complex = [...PROTO2, ...global('torch', 'ComplexFloatStorage'), STOP];
    expect(() => decodeTorchStateDict(archive(complex))).toThrow(/"torch\.ComplexFloatStorage" is not allowed/);
    const persid = [...PROTO2, ...str('module'), ...str('x'), TUPLE2, BINPERSID, STOP];
    expect(() => decodeTorchStateDict(archive(persid))).toThrow(/persistent id is a tuple of 2/);
  });

  it('refuses tensors outside their storage and storages missing or too short', () => {
    const past = [...PROTO2, ...ordered(), MARK, ...str('w'), ...tensor('FloatStorage', '0', 4, 2, [2, 2], [2, 1]), SETITEMS, STOP];
    expect(() => decodeTorchStateDict(archive(past, { '0': f32(0, 1, 2, 3) }))).toThrow(/reaches past its storage of 4 elements/);
    const ok = [...PROTO2, ...ordered(), MARK, ...str('w'), ...tensor('FloatStorage', '0', 4, 0, [4], [1]), SETITEMS, STOP];
    expect(() => decodeTorchStateDict(archive(ok, {}))).toThrow(/no member archive\/data\/0/);
    expect(() => decodeTorchStateDict(archive(ok, { '0': f32(0, 1) }))).toThrow(/holds 8 bytes, less than 4 elements/);
  });

  it('refuses what is not a dict of tensors, and truncated pickles', () => {
    expect(() => decodeTorchStateDict(archive([...PROTO2, ...int(3), STOP]))).toThrow(/expected the file to hold a state dict.*an int \(3\)/);
    const withInt = [...PROTO2, ...ordered(), MARK, ...str('epoch'), ...int(3), SETITEMS, STOP];
    expect(() => decodeTorchStateDict(archive(withInt))).toThrow(/"epoch" holds an int \(3\)/);
    expect(() => decodeTorchStateDict(archive([...PROTO2, ...ordered()]))).toThrow(/ends without STOP/);
    expect(() => decodeTorchStateDict(archive([...PROTO2, 0x58, 9, 0]))).toThrow(/truncated/);
  });

  it('refuses garbage, the legacy format, archives without data.pkl, and non-bytes', () => {
    const garbage = Uint8Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 0xff);
    expect(() => decodeTorchStateDict(garbage)).toThrow(/not a torch\.save zip archive/);
    expect(() => decodeTorchStateDict(new Uint8Array(0))).toThrow(/not a torch\.save zip archive/);
    const legacy = Uint8Array.of(0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e);
    expect(() => decodeTorchStateDict(legacy)).toThrow(/legacy format/);
    const npz = writeZip([{ name: 'a.npy', parts: [Uint8Array.of(1)] }], { deflate: false });
    expect(() => decodeTorchStateDict(npz)).toThrow(/no <name>\/data\.pkl member \(members: a\.npy\)/);
    expect(() => decodeTorchStateDict([1, 2] as unknown as Uint8Array)).toThrow(TypeError);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Files torch.save wrote

type Expected = { dtype: string; shape: number[]; values: Array<number | string> };

/** The tensor's values as the generator lists them: NaN and infinities as strings, int64 as decimal strings. */
function listed(t: DecodedTensor): Array<number | string> {
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => {
    if (typeof v === 'bigint') return String(v);
    if (Number.isNaN(v)) return 'nan';
    if (v === Infinity) return 'inf';
    if (v === -Infinity) return '-inf';
    return v;
  });
}

const ARRAYS: Record<string, string> = {
  F32: 'Float32Array', F64: 'Float64Array', I64: 'BigInt64Array', I32: 'Int32Array', I16: 'Int16Array',
  I8: 'Int8Array', U8: 'Uint8Array', BOOL: 'Uint8Array',
};

describe.skipIf(!haveTorch)('decodeTorchStateDict on files torch.save wrote (needs Debian\'s python3-torch for /usr/bin/python3)', () => {
  let dir = '';
  let expected: { torch: string; files: Record<string, Record<string, Expected> & { refused?: never } | { refused: string }> };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dase-torch-'));
    const run = spawnSync(PYTHON, [GENERATOR, dir], { encoding: 'utf8', timeout: 120_000 });
    if (run.status !== 0) throw new Error(`make_torch_fixtures.py failed (${run.status}): ${run.error?.message ?? run.stderr}`);
    expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
  });
  afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  const check = (file: string) => {
    const want = expected.files[file] as Record<string, Expected>;
    const got = decodeTorchStateDict(readFileSync(join(dir, file)));
    expect(Object.keys(got)).toEqual(Object.keys(want));
    for (const [name, w] of Object.entries(want)) {
      const t = got[name];
      expect({ name, dtype: t.dtype, shape: t.shape, array: t.data.constructor.name })
        .toEqual({ name, dtype: w.dtype, shape: w.shape, array: ARRAYS[w.dtype] });
      // Object.is per element: -0 and NaN must survive.
      const values = listed(t);
      expect(values.length, name).toBe(w.values.length);
      values.forEach((v, i) => { if (!Object.is(v, w.values[i])) expect({ name, i, v }).toEqual({ name, i, v: w.values[i] }); });
    }
    return got;
  };

  it('reads every dtype, 0-d and empty tensors (half and bfloat16 widened to F32 exactly)', () => {
    const got = check('dtypes.pt');
    expect(got.f16.data).toBeInstanceOf(Float32Array);
    expect(Object.is(got.f16.data[1], -0)).toBe(true);
    expect(got.f16.data[5]).toBe(2 ** -24); // the smallest subnormal half
    expect(got.bool.data).toEqual(Uint8Array.of(1, 0, 1, 0, 0, 1));
    expect(got.i64.data[1]).toBe(2n ** 63n - 1n);
    expect(got.scalar).toEqual({ data: Float32Array.of(2.5), shape: [], dtype: 'F32' });
  });

  it('copies non-contiguous views and tensors sharing a storage out in C order', () => {
    const got = check('views.pt');
    expect(got.transposed.data).toEqual(Float32Array.of(0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11));
    expect(got.second.data).toEqual(Float64Array.of(4, 5, 6, 7, 8, 9));
    expect(got.first.data.buffer).not.toBe(got.second.data.buffer);
  });

  it('reads model.state_dict() (an OrderedDict with _metadata) with nested module names', () => {
    const got = check('model.pt');
    expect(Object.keys(got)).toContain('layer1.0.weight');
    expect(got['layer1.1.num_batches_tracked']).toEqual({ data: BigInt64Array.of(0n), shape: [], dtype: 'I64' });
    expect(got['layer1.1.running_mean'].data).toEqual(Float32Array.of(0.25, 0.25));
  });

  it('reads parameters saved as nn.Parameter (torch._utils._rebuild_parameter)', () => {
    const got = check('params.pt');
    expect(readFileSync(join(dir, 'params.pt')).includes('_rebuild_parameter')).toBe(true);
    expect(got['head.weight'].shape).toEqual([1, 2]);
  });

  it('refuses a training checkpoint, naming the entry that is not a tensor', () => {
    const refused = (expected.files['checkpoint.pt'] as { refused: string }).refused;
    expect(() => decodeTorchStateDict(readFileSync(join(dir, 'checkpoint.pt')))).toThrow(refused);
  });
});
