import { defineConfig, type Options } from 'tsup';

/** The build every package shares: ESM for Node 22+, with type declarations and source maps. */
export function packageBuild(entry: Options['entry'] = ['src/index.ts'], extra: Options = {}) {
  return defineConfig({
    entry,
    format: ['esm'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node22',
    ...extra,
  });
}
