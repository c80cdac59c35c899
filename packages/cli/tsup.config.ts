import { packageBuild } from '../../tsup.base.js';

// `index`: the programmatic API (with types, for import and require); `bin`: the `cimmeria` command.
export default packageBuild({
  esmOnly: { bin: 'src/bin.ts' },
  untyped: ['bin'],
  options: {
    // Needed by bin.js; harmless in the library chunks (Node ignores a leading hashbang).
    banner: { js: '#!/usr/bin/env node' },
    // tsup leaves dependencies and peers out of the bundle, not optional dependencies: these
    // are imported at run time, when configured (and may be missing).
    external: ['@cimmeria/metadata-postgres', '@cimmeria/storage-s3'],
  },
});
