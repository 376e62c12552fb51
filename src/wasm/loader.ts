// Instantiates the kernels' WASM module: lazily and synchronously from the embedded bytes on the first
// kernel call (no top-level await, no fetch, no file access), or ahead of time through init().

import { SCALAR_WASM_BASE64, SCALAR_WASM_SHA256, SIMD_WASM_BASE64, SIMD_WASM_SHA256 } from './generated/embedded.js';
import type { KernelBuild, KernelExports } from './exports.js';
import { liveRegions } from './regions.js';

export type { KernelBuild, KernelExports } from './exports.js';

/** What runs the kernels, as reported by {@link init} and {@link kernelInfo}. */
export interface KernelInfo {
  /** `'simd'` or `'scalar'`. */
  build: KernelBuild;
  /** SHA-256 (hex) of the running .wasm binary: a result computed by another binary can be told apart. */
  wasmSha256: string;
}

/** Options of {@link init}: which build, and where its bytes come from. */
export interface InitOptions {
  /** Force the SIMD (`true`) or scalar (`false`) build; default: SIMD where `WebAssembly.validate` accepts it. */
  simd?: boolean;
  /**
   * Load the .wasm from this URL (for pages whose Content-Security-Policy forbids compiling inline bytes):
   * the `kernels-simd.wasm` or `kernels-scalar.wasm` shipped in the package's `build/` folder.
   */
  url?: string | URL;
  /** Or the .wasm bytes themselves (same two files). */
  bytes?: BufferSource;
}

interface Loaded { exports: KernelExports; info: KernelInfo }

let loaded: Loaded | undefined;
let simdSupport: boolean | undefined;

const builds: Record<KernelBuild, { base64: string; sha256: string }> = {
  simd: { base64: SIMD_WASM_BASE64, sha256: SIMD_WASM_SHA256 },
  scalar: { base64: SCALAR_WASM_BASE64, sha256: SCALAR_WASM_SHA256 },
};
const decoded: Partial<Record<KernelBuild, Uint8Array>> = {};

function embeddedBytes(build: KernelBuild): Uint8Array {
  return (decoded[build] ??= decodeBase64(builds[build].base64));
}

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Whether this engine accepts the SIMD build (WebAssembly SIMD); checked once.
 * @returns true when the SIMD build can run here.
 * @example
 * if (!simdSupported()) console.info('the kernels run their scalar build here');
 */
export function simdSupported(): boolean {
  return (simdSupport ??= WebAssembly.validate(embeddedBytes('simd') as BufferSource));
}

function pickBuild(simd: boolean | undefined): KernelBuild {
  if (simd === undefined) return simdSupported() ? 'simd' : 'scalar';
  if (typeof simd !== 'boolean') throw new TypeError(`init: expected options.simd to be a boolean, got ${typeof simd}`);
  if (simd && !simdSupported()) throw new RangeError('init: simd: true was asked, but this engine does not support WebAssembly SIMD');
  return simd ? 'simd' : 'scalar';
}

const imports = {
  env: {
    // Only reachable through a bug in dase-cache: arguments are checked before any kernel runs.
    abort(_message: number, _file: number, line: number, column: number): never {
      throw new Error(`dase-cache: WASM kernel aborted at assembly line ${line}:${column}`);
    },
  },
};

function instantiate(module: WebAssembly.Module, build: KernelBuild): Loaded {
  const instance = new WebAssembly.Instance(module, imports);
  return { exports: instance.exports as unknown as KernelExports, info: { build, wasmSha256: builds[build].sha256 } };
}

/** The kernels' exports, instantiating the embedded module on first use. */
export function kernels(): KernelExports {
  if (loaded === undefined) {
    const build = pickBuild(undefined);
    loaded = instantiate(new WebAssembly.Module(embeddedBytes(build) as BufferSource), build);
  }
  return loaded.exports;
}

/**
 * Which build runs the kernels (instantiating it if needed).
 * @returns the build and the SHA-256 of its binary.
 * @example
 * kernelInfo(); // { build: 'simd', wasmSha256: '…' }
 */
export function kernelInfo(): KernelInfo {
  kernels();
  return { ...loaded!.info };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function identify(bytes: Uint8Array, source: string): KernelBuild {
  for (const build of ['simd', 'scalar'] as const) if (sameBytes(bytes, embeddedBytes(build))) return build;
  throw new Error(`init: ${source} is not a kernels .wasm of this dase-cache version ` +
    '(expected build/kernels-simd.wasm or build/kernels-scalar.wasm from the same package)');
}

function toBytes(source: BufferSource): Uint8Array {
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  throw new TypeError(`init: expected options.bytes to be an ArrayBuffer or a typed array, got ${typeof source}`);
}

/**
 * Compiles and instantiates the kernels ahead of the first call, optionally from a URL or given bytes.
 * Calling it is optional: every kernel instantiates the embedded module on first use.
 * @param options - `simd` to force a build, `url` or `bytes` to load the .wasm from elsewhere.
 * @returns the build that now runs the kernels.
 * @throws {Error} when the fetched bytes are not a kernels binary of this version, or the fetch fails; when
 *   fractionalHistory objects still hold state in the current kernels' memory.
 * @throws {TypeError|RangeError} for bad options, or `simd: true` on an engine without WebAssembly SIMD.
 * @example
 * await init({ url: '/assets/kernels-simd.wasm' }); // copied from the package's build/ folder
 */
export async function init(options: InitOptions = {}): Promise<KernelInfo> {
  if (liveRegions() > 0) {
    throw new Error(`init: ${liveRegions()} fractionalHistory object(s) hold state in the current kernels' memory; dispose() them before init()`);
  }
  if (options === null || typeof options !== 'object') throw new TypeError(`init: expected an options object, got ${options}`);
  let build: KernelBuild;
  let bytes: Uint8Array;
  if (options.url !== undefined || options.bytes !== undefined) {
    if (options.url !== undefined && options.bytes !== undefined) throw new TypeError('init: give options.url or options.bytes, not both');
    if (options.url !== undefined) {
      const response = await fetch(options.url);
      if (!response.ok) throw new Error(`init: fetching ${String(options.url)} failed with HTTP ${response.status}`);
      bytes = new Uint8Array(await response.arrayBuffer());
    } else {
      bytes = toBytes(options.bytes!);
    }
    build = identify(bytes, options.url !== undefined ? String(options.url) : 'options.bytes');
    if (options.simd !== undefined && options.simd !== (build === 'simd')) {
      throw new RangeError(`init: options.simd is ${options.simd} but the given binary is the ${build} build`);
    }
    if (build === 'simd' && !simdSupported()) throw new RangeError('init: this engine does not support WebAssembly SIMD; load kernels-scalar.wasm');
  } else {
    build = pickBuild(options.simd);
    bytes = embeddedBytes(build);
  }
  const module = await WebAssembly.compile(bytes as BufferSource);
  loaded = instantiate(module, build);
  return { ...loaded.info };
}

/**
 * Runs one kernel call. Arguments are checked before any kernel runs, so a trap here is a bug; it still
 * must not surface as a bare WebAssembly.RuntimeError, and the module stays usable afterwards (no kernel
 * keeps state between calls).
 */
export function runKernel<T>(name: string, body: (k: KernelExports) => T): T {
  const k = kernels();
  try {
    return body(k);
  } catch (error) {
    if (error instanceof WebAssembly.RuntimeError) {
      throw new Error(`dase-cache: ${name} failed inside its WASM kernel (${error.message})`, { cause: error });
    }
    throw error;
  }
}
