export { conanPlugin, type ConanPluginOptions } from './conan-plugin.js';
