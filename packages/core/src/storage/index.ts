export * from './blob-store.js';
export * from './hashing.js';
export * from './blob-keys.js';
export * from './chunk-release.js';
