import { conan1ConformanceContract } from '@cimmeria/core/testing';
import { CONAN1_ENTRY_POINTS, CONAN1_V1_RECORDING } from './support/conan1-entry-points.js';

// Conan 1.65's default mode: the v1 routes, revision 0, file URLs signed by the server.
for (const [name, start] of CONAN1_ENTRY_POINTS) conan1ConformanceContract(`v1 mode, ${name}`, CONAN1_V1_RECORDING, start);
