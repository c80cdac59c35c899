import { rmSync } from 'node:fs';
import { defineConfig, type Options } from 'tsup';

/** What {@link packageBuild} builds. */
export interface PackageBuildOptions {
  /** Entries loadable with both `import` (`.js` + `.d.ts`) and `require` (`.cjs` + `.d.cts`). */
  entry?: Record<string, string>;
  /**
   * Entries built as ES modules only, in the same build as the ES side of
   * `entry`, so they share its chunks (one `ConanError` class, so
   * `instanceof` holds across entries).
   */
  esmOnly?: Record<string, string>;
  /** Entries (of `entry` or `esmOnly`) without type declarations, e.g. a CLI's bin. */
  untyped?: string[];
  /** tsup options applied to both builds. */
  options?: Options;
}

/**
 * The build every package shares, for Node 22+: ES modules and CommonJS,
 * each with its own type declarations, so a package loads with `import` and
 * with `require`, and TypeScript resolves types in both module modes.
 */
export function packageBuild({ entry = { index: 'src/index.ts' }, esmOnly = {}, untyped = [], options = {} }: PackageBuildOptions = {}) {
  // The two builds run in parallel: tsup's own `clean` in either could delete
  // what the other just wrote, so empty dist once, before both.
  rmSync('dist', { recursive: true, force: true });
  const typed = (entries: Record<string, string>) =>
    Object.fromEntries(Object.entries(entries).filter(([name]) => !untyped.includes(name)));
  const common: Options = { clean: false, sourcemap: true, target: 'node22', ...options };
  // Splitting keeps one copy of shared code (and classes) across CommonJS entries too.
  if (Object.keys(esmOnly).length === 0) {
    // One build, one type-check for both formats.
    return defineConfig({ ...common, entry, format: ['esm', 'cjs'], splitting: true, dts: { entry: typed(entry) } });
  }
  const esm = { ...entry, ...esmOnly };
  return defineConfig([
    { ...common, entry: esm, format: ['esm'], dts: { entry: typed(esm) } },
    { ...common, entry, format: ['cjs'], splitting: true, dts: { entry: typed(entry) } },
  ]);
}
