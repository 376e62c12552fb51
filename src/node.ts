// dase-cache for Node (the `node` export condition).
export * from './core.js';
export { checksum } from './platform/node.js';
