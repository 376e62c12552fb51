// dase-cache for Node (the `node` export condition).
export * from './core.js';
export { checksum } from './platform/node.js';
export { CacheManager } from './platform/node-cache.js';
export type { NodeCacheManagerOptions } from './platform/node-cache.js';
