import { packageBuild } from '../../tsup.base.js';

// `index`: the programmatic API (with types, for import and require); `bin`: the `cimmeria` command.
export default packageBuild({
  esmOnly: { bin: 'src/bin.ts' },
  untyped: ['bin'],
  // Needed by bin.js; harmless in the library chunks (Node ignores a leading hashbang).
  options: { banner: { js: '#!/usr/bin/env node' } },
});
