// The messages between the demo page (main.ts) and its worker (worker.ts), which runs the simulation and
// the cache off the main thread so that the page keeps animating while it computes.

import type { CacheStats, KernelInfo } from '../src/index.js';
import type { DiffusionParams, JobStep } from '../examples/diffusion-model.js';

/** Where the cache lives: the origin-private file system, or memory where a browser has none. */
export type StorageKind = 'opfs' | 'memory';

/** Where the worker takes the kernels' WASM from: the bytes embedded in the bundle, or build/*.wasm by URL. */
export type WasmSource = 'embedded' | 'url';

export type Request =
  | { type: 'init'; wasm: WasmSource; simd?: boolean; root: string; storage: StorageKind }
  | { type: 'run'; params: DiffusionParams }
  | { type: 'hashes' }
  | { type: 'forget'; params: DiffusionParams }
  | { type: 'clear' };

export type Reply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { name: string; message: string; code?: string } };

/** What the worker answers to 'init'. */
export interface WorkerReady { kernel: KernelInfo; wasm: WasmSource; root: string; storage: StorageKind }

/** One run of the job, as the worker reports it. */
export interface RunReport {
  params: DiffusionParams;
  /** Each memoized step: where its result came from (computed, memory, disk = OPFS) and its time. */
  steps: JobStep[];
  /** Opening the cache and running the job (the kernels, the simulation, its background writes), ms. */
  jobMs: number;
  /** Closing the cache, which folds its journals into index.json, ms. */
  closeMs: number;
  snapshots: { data: Float64Array; shape: number[] };
  frames: Int32Array;
  centreFinal: number;
  /** SHA-256 of the snapshots' bytes, to compare runs and engines. */
  snapshotsSha256: string;
  kernel: KernelInfo;
  /** The cache's statistics right after the run (read by the worker's own CacheManager). */
  stats: CacheStats;
}

/** What 'hashes' answers: the SHA-256 of each kernel check's output (demo/kernel-checks.ts). */
export interface KernelHashes { kernel: KernelInfo; hashes: Record<string, string> }
