// The demo's worker: loads the kernels (embedded bytes or by URL), runs the diffusion job of
// examples/diffusion-model.ts on a CacheManager in the origin-private file system, and answers the page.
// OPFS and Web Locks work in dedicated workers as on the page, so the page's own CacheManager sees the
// same cache.

import { CacheManager, createSha256, init, kernelInfo, sha256Hex } from '../src/index.js';
import { diffusionJob, type DiffusionParams } from '../examples/diffusion-model.js';
import { hashKernelChecks } from './kernel-checks.js';
import type { KernelHashes, Reply, Request, RunReport, StorageKind, WasmSource, WorkerReady } from './protocol.js';

// The DOM's typings describe a window; a dedicated worker's global has this narrower shape.
const scope = self as unknown as {
  postMessage(message: Reply): void;
  onmessage: ((event: MessageEvent<Request & { id: number }>) => void) | null;
};

// Set by 'init', the page's first request (requests are answered in order).
let root: string;
let storage: StorageKind;

async function start(wasm: WasmSource, simd: boolean | undefined): Promise<WorkerReady> {
  if (wasm === 'url') {
    // The .wasm files sit beside this script: scripts/serve-demo.mjs copies them from build/.
    const build = (simd ?? true) ? 'kernels-simd.wasm' : 'kernels-scalar.wasm';
    await init({ url: new URL(build, self.location.href) });
  } else {
    await init(simd === undefined ? {} : { simd });
  }
  return { kernel: kernelInfo(), wasm, root, storage };
}

async function run(params: DiffusionParams): Promise<RunReport> {
  // As the Node example measures it: opening the cache, the calls, and the background writes.
  const started = performance.now();
  const cache = new CacheManager({ root, storage });
  const { steps, result, centreDerivative } = await diffusionJob(cache, params).run();
  const jobMs = performance.now() - started;
  const stats = await cache.getStats();
  const closing = performance.now();
  await cache.close();
  return {
    params, steps, jobMs, closeMs: performance.now() - closing, stats,
    snapshots: result.snapshots, frames: result.frames, centreFinal: centreDerivative[centreDerivative.length - 1],
    snapshotsSha256: sha256Hex(result.snapshots.data), kernel: kernelInfo(),
  };
}

async function withCache<T>(body: (cache: CacheManager) => Promise<T>): Promise<T> {
  const cache = new CacheManager({ root, storage });
  try {
    return await body(cache);
  } finally {
    await cache.close();
  }
}

async function answer(request: Request): Promise<unknown> {
  switch (request.type) {
    case 'init':
      ({ root, storage } = request);
      return start(request.wasm, request.simd);
    case 'run':
      return run(request.params);
    case 'hashes': {
      const hashes = hashKernelChecks((parts) => {
        const hash = createSha256();
        for (const part of parts) hash.update(part);
        return hash.digestHex();
      });
      return { kernel: kernelInfo(), hashes } satisfies KernelHashes;
    }
    case 'forget':
      return withCache((cache) => diffusionJob(cache, request.params).forget());
    case 'clear':
      return withCache((cache) => cache.clearAll());
  }
}

// One request at a time, in order: a run and a clear must not interleave.
let queue: Promise<unknown> = Promise.resolve();
scope.onmessage = (event) => {
  const { id, ...request } = event.data;
  queue = queue.then(async () => {
    try {
      scope.postMessage({ id, ok: true, value: await answer(request as Request) });
    } catch (error) {
      const { name = 'Error', message = String(error), code } = error as { name?: string; message?: string; code?: string };
      scope.postMessage({ id, ok: false, error: { name, message, code } });
    }
  });
};
