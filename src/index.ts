/**
 * dase-cache for browsers and other non-Node engines (the `browser` and `default` export conditions):
 * no `node:` import anywhere on its paths. Everything in `core`, plus `checksum` by the WASM SHA-256 and a
 * `CacheManager` on the origin-private file system (or in memory).
 * @module browser
 */
export * from './core.js';
export { checksum } from './platform/browser.js';
export { CacheManager } from './platform/browser-cache.js';
export type { BrowserCacheManagerOptions } from './platform/browser-cache.js';
