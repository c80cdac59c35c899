import { conan1ConformanceContract } from '@cimmeria/core/testing';
import { CONAN1_ENTRY_POINTS, CONAN1_REVISIONS_RECORDING } from './support/conan1-entry-points.js';

// Conan 1.65 with CONAN_REVISIONS_ENABLED=1: the /v2 routes of Conan 2, login under /v1.
for (const [name, start] of CONAN1_ENTRY_POINTS) conan1ConformanceContract(`revisions mode, ${name}`, CONAN1_REVISIONS_RECORDING, start);
