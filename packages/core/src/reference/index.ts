export * from './names.js';
export * from './references.js';
export * from './file-path.js';
export * from './fnmatch.js';
export * from './recipe-search.js';
