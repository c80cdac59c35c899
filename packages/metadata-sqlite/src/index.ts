export { createSqliteMetadataStore, type SqliteMetadata, type SqliteMetadataOptions } from './sqlite-metadata.js';
