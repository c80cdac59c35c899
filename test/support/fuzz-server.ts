import { rm } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { CONFORMANCE_PERMISSIONS, CONFORMANCE_USERS } from '@cimmeria/core/testing';

/** Secret of the fuzzed server's tokens (fixed, so tokens survive a restart of the worker). */
export const FUZZ_TOKEN_SECRET = 'fuzz-secret-0123456789abcdef';

/**
 * A `serveNode(createConanHandler(registry))` on SQLite + a temp directory,
 * with the conformance recording's users and permissions, running in a worker
 * thread: a request that freezes the server's event loop does not freeze the
 * test, which can then report it and {@link FuzzServer.kill} the worker.
 */
export class FuzzServer {
  /** Stacks of errors the handler answered with a 5xx, newest last (bounded). */
  readonly errors: string[] = [];
  /** Set when the worker died on its own: the server crashed. */
  crashed: string | undefined;

  private constructor(
    private readonly worker: Worker,
    readonly port: number,
    readonly url: string,
    private readonly dir: string,
  ) {
    worker.on('message', (message: { type: string; error?: string }) => {
      if (message.type === 'error') this.errors.splice(0, Math.max(0, this.errors.length - 9), message.error!);
    });
    worker.on('error', (error) => (this.crashed = error.stack ?? String(error)));
    worker.on('exit', (code) => (this.crashed ??= `the server's worker exited with ${code}`));
  }

  static async start(options: { maxUploadBytes: number }): Promise<FuzzServer> {
    const worker = new Worker(new URL('./fuzz-server-worker.mjs', import.meta.url), {
      workerData: {
        users: CONFORMANCE_USERS,
        permissions: CONFORMANCE_PERMISSIONS,
        maxUploadBytes: options.maxUploadBytes,
        tokenSecret: FUZZ_TOKEN_SECRET,
      },
    });
    const ready = await new Promise<{ port: number; url: string; dir: string }>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the fuzz server's worker exited with ${code} before listening`)));
      worker.on('message', (message: { type: string; port: number; url: string; dir: string }) => {
        if (message.type === 'ready') resolve(message);
      });
    });
    worker.removeAllListeners('error').removeAllListeners('exit');
    return new FuzzServer(worker, ready.port, ready.url, ready.dir);
  }

  /** Closes the server (or ends it, if it does not close within 5 s) and removes its data. */
  async stop(): Promise<void> {
    if (this.crashed === undefined) {
      const exited = new Promise((resolve) => this.worker.once('exit', resolve));
      this.worker.postMessage('close');
      const frozen = setTimeout(() => void this.worker.terminate(), 5000);
      await exited;
      clearTimeout(frozen);
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Ends a frozen or broken server at once and removes its data. */
  async kill(): Promise<void> {
    this.crashed ??= 'killed by the test';
    await this.worker.terminate();
    await rm(this.dir, { recursive: true, force: true });
  }
}
