export * from './principal.js';
export * from './password-hash.js';
export * from './authenticator.js';
export * from './tokens.js';
export * from './authorizer.js';
export { LOGIN_PROTECTION_DEFAULTS } from './login-guard.js';
export * from './api-tokens.js';
