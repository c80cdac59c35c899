import { packageBuild } from '../../tsup.base.js';

// `index`: the programmatic API (with types); `bin`: the `cimmeria` command.
export default packageBuild(
  { index: 'src/index.ts', bin: 'src/bin.ts' },
  {
    dts: { entry: { index: 'src/index.ts' } },
    // Needed by bin.js; harmless in the library chunk (Node ignores a leading hashbang).
    banner: { js: '#!/usr/bin/env node' },
    // tsup leaves dependencies and peers out of the bundle, not optional dependencies: these
    // are imported at run time, when configured (and may be missing).
    external: ['@cimmeria/metadata-postgres', '@cimmeria/storage-s3'],
  },
);
