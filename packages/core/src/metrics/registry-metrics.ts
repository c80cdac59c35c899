/**
 * What the registry reports as it works: the seam between the HTTP handler
 * (and the instrumented stores) and a metrics library. The core calls it;
 * `createMetrics` of `@cimmeria/core/metrics` implements it on prom-client,
 * so importing the core alone never loads prom-client.
 *
 * Every label value passed is from a bounded set (operation names of the
 * route table, `unknown`, store method names), never a raw path.
 */
export interface RegistryMetrics {
  /** A request was answered (headers sent): its operation, status, and seconds until the answer. */
  requestAnswered(operation: string, status: number, seconds: number): void;
  /** An upload body started being read; call the returned function when it ends, however it ends. */
  uploadStarted(): () => void;
  /** A download body started streaming; call the returned function when it ends, however it ends. */
  downloadStarted(): () => void;
  /** Bytes of an upload body read. */
  uploadedBytes(bytes: number): void;
  /** Bytes of a download body sent. */
  downloadedBytes(bytes: number): void;
  /** A download answered with a redirect to the blob store. */
  downloadRedirected(): void;
  /** A revision was published (its `conanmanifest.txt` recorded). */
  published(kind: 'recipe' | 'package'): void;
  /** A delete succeeded; `operation` is the route's operation name. */
  deleted(operation: string): void;
  /** A login (`/v2/users/authenticate`) was refused. */
  loginFailed(): void;
  /** A call of a store method finished, `failed` when it threw or rejected. */
  backendCall(backend: string, method: string, seconds: number, failed: boolean): void;
}
