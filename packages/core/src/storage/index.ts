export * from './blob-store.js';
export * from './hashing.js';
