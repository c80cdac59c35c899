// Every URL the UI needs comes from where its own script was loaded:
// `{mount}/ui/assets/index-<hash>.js`. No mount path is configured anywhere.
const uiRoot = new URL(/* @vite-ignore */ '../', import.meta.url);

/** Path of the UI's root without the trailing slash, e.g. `/conan/ui` (the router's base). */
export const UI_BASE = uiRoot.pathname.replace(/\/$/, '');

/** `{mount}/api/v1/` */
export const API_BASE = new URL('../api/v1/', uiRoot);

/** The Conan remote URL: the server's origin and mount path, e.g. `https://host/conan`. */
export const REMOTE_URL = new URL('../', uiRoot).href.replace(/\/$/, '');
