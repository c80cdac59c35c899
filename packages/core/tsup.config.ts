import { packageBuild } from '../../tsup.base.js';

export default packageBuild({
  entry: { index: 'src/index.ts', 'node/index': 'src/node/index.ts', 'metrics/index': 'src/metrics/index.ts', defaults: 'src/defaults.ts' },
  // The contract suites run inside vitest, which refuses require(): ES modules only.
  esmOnly: { 'testing/index': 'src/testing/index.ts' },
  options: { external: ['vitest'] },
});
