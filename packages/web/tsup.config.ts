import { packageBuild } from '../../tsup.base.js';

// `shims`: the CommonJS build finds the built UI through import.meta.url too.
export default packageBuild({ options: { shims: true } });
