/** The oldest Node.js major better-sqlite3 13 supports. */
const MINIMUM_NODE_MAJOR = 22;

/**
 * Throws a clear error on a Node.js older than 22. better-sqlite3 loads its
 * native addon at the first `new Database()`, and on Node 20 that kills the
 * process with a segmentation fault rather than throwing: check first.
 */
export function assertSupportedNode(version: string = process.versions.node): void {
  if (Number(version.split('.')[0]) < MINIMUM_NODE_MAJOR) {
    throw new Error(`Cimmeria needs Node.js ${MINIMUM_NODE_MAJOR} or newer (this is ${version})`);
  }
}
