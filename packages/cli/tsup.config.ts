import { defineConfig } from 'tsup';

export default defineConfig({
  // `index`: the programmatic API (with types); `bin`: the `cimmeria` command.
  entry: { index: 'src/index.ts', bin: 'src/bin.ts' },
  dts: { entry: { index: 'src/index.ts' } },
  format: ['esm'],
  clean: true,
  sourcemap: true,
  target: 'node22',
  // Needed by bin.js; harmless in the library chunk (Node ignores a leading hashbang).
  banner: { js: '#!/usr/bin/env node' },
});
