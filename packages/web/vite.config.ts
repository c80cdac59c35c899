import { defineConfig } from 'vite';

// The UI is built once, at package build time, into dist/ui (next to the
// server code tsup writes to dist/). `base: './'`: every asset URL is
// relative, so the UI works under whatever path the host mounts it.
export default defineConfig({
  root: 'src/ui',
  base: './',
  publicDir: 'public',
  build: {
    outDir: '../../dist/ui',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // No inline data: URLs for assets: the CSP allows them for images only.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  resolve: { alias: { react: 'preact/compat', 'react-dom': 'preact/compat' } },
});
