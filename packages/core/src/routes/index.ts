export * from './conan-routes.js';
export * from './match-route.js';
