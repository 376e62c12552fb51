// dase-cache for browsers and other non-Node engines (the `browser` and `default` export conditions).
export * from './core.js';
export { checksum } from './platform/browser.js';
