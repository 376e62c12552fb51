/**
 * dase-cache for Node (the `node` export condition). Everything in `core`, plus `checksum` by node:crypto and a
 * `CacheManager` on a folder of the file system.
 * @module node
 */
export * from './core.js';
export { checksum } from './platform/node.js';
export { CacheManager } from './platform/node-cache.js';
export type { NodeCacheManagerOptions } from './platform/node-cache.js';
