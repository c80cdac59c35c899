export { createWebUi, type WebUiOptions, type WebUiServer } from './serve-ui.js';
export { CONTENT_SECURITY_POLICY } from './headers.js';
