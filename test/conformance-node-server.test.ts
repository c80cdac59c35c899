import { conformanceContract } from '@cimmeria/core/testing';
import { RECORDING, conformanceRegistry } from './support/conformance-registry.js';
import { nodeHttpTarget } from './support/conformance-targets.js';

// Over a real socket through the node bridge, under a base path like a remote URL with a prefix.
conformanceContract('node:http under /some/prefix', RECORDING, async () =>
  nodeHttpTarget(await conformanceRegistry(), '/some/prefix'),
);
