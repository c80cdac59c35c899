export * from './conformance.js';
export * from './blob-store-contract.js';
export * from './metadata-store-contract.js';
export { deterministicBytes, bytesOf, digestStream } from './byte-source.js';
export * from './conformance-conan1.js';
