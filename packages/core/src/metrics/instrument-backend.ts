import type { RegistryMetrics } from './registry-metrics.js';

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/**
 * Wraps a store (MetadataStore, BlobStore, ...) so that each call of one of
 * its methods is timed and reported with `backend` and the method name.
 * Calls the store makes on itself (through `this`) are not counted: the
 * methods run on the real object. Only async results are timed to their
 * settling; a synchronous method is timed as it returns.
 */
export function instrumentBackend<T extends object>(store: T, backend: string, metrics: RegistryMetrics): T {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function' || property === 'constructor') return value;
      let wrapper = wrapped.get(property);
      if (!wrapper) {
        const method = String(property);
        const original = value as (...args: unknown[]) => unknown;
        wrapper = function instrumented(...args: unknown[]): unknown {
          const start = performance.now();
          const done = (failed: boolean) => metrics.backendCall(backend, method, (performance.now() - start) / 1000, failed);
          let result: unknown;
          try {
            result = original.apply(target, args);
          } catch (error) {
            done(true);
            throw error;
          }
          if (!isThenable(result)) {
            done(false);
            return result;
          }
          return Promise.resolve(result).then(
            (resolved) => {
              done(false);
              return resolved;
            },
            (error: unknown) => {
              done(true);
              throw error;
            },
          );
        };
        wrapped.set(property, wrapper);
      }
      return wrapper;
    },
  });
}
