export { conanRouter, type ConanRouterOptions } from './conan-router.js';
