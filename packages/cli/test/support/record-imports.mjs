// Preloaded with `node --import`: appends the URL of every module the process
// resolves (import and, where Node supports it, require) to $RECORD_IMPORTS_TO,
// so a test can see what a real `cimmeria` process loaded.
import { appendFileSync } from 'node:fs';
import module from 'node:module';

const out = process.env.RECORD_IMPORTS_TO;
if (!out) throw new Error('record-imports.mjs: set RECORD_IMPORTS_TO to a file');

if (typeof module.registerHooks === 'function') {
  module.registerHooks({
    resolve(specifier, context, nextResolve) {
      const result = nextResolve(specifier, context);
      appendFileSync(out, `${result.url}\n`);
      return result;
    },
  });
} else {
  // Node before 22.15: asynchronous hooks, which see imports (every backend package is imported).
  const hooks = `
    import { appendFileSync } from 'node:fs';
    export async function resolve(specifier, context, nextResolve) {
      const result = await nextResolve(specifier, context);
      appendFileSync(${JSON.stringify(out)}, result.url + '\\n');
      return result;
    }`;
  module.register(`data:text/javascript,${encodeURIComponent(hooks)}`);
}
