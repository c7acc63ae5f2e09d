/** The protocol core: a pure state machine. See api.ts for how a runtime drives it. */
export * from './api.js';
export * from './config.js';
export * from './errors.js';
export { groupOfName, groupOfNode, hash32, nodeId } from './hash.js';
export { KelipsNode, MESSAGE_TYPE_NAMES } from './node.js';
export * from './rng.js';
export * from './types.js';
