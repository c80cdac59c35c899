import type pg from 'pg';

/**
 * One connection in pg's pipeline mode for the look-ups every client makes
 * (`latest`, a file before a download, a token): each is a single statement
 * outside any transaction, so they need not wait for a pooled connection
 * of their own. Queries go out as they come, without waiting for the
 * answers of those before, and those sent in one turn of the event loop
 * leave in one write. On a 2-core machine serving `latest`, named
 * statements alone answered 0.20 of a bare node:http server's requests,
 * with this lane 0.36-0.41 (bench/README.md): fewer socket writes, and
 * PostgreSQL's backend answers a batch per wake-up.
 *
 * Ordering gives the same reads as the pool: a query sent after another
 * connection's commit was acknowledged sees that commit. A statement that
 * fails is answered with its error alone (each query ends with its own
 * Sync); a dead connection fails the queries on it as unavailable (503),
 * like a pooled one, and the next query opens a new connection. A query
 * past its deadline destroys the connection (pg does so in pipeline mode:
 * the queries behind it could not be answered), which fails the others on
 * it too.
 */
export class PipelineLane {
  readonly #open: () => pg.Client;
  readonly #onError: (error: Error) => void;
  #client: pg.Client | undefined;
  #writesHeld = false;
  #closed = false;

  /**
   * @param open makes an unconnected client with `pipeline: true`.
   * @param onError told of errors of the connection outside any query (a server restart).
   */
  constructor(open: () => pg.Client, onError: (error: Error) => void) {
    this.#open = open;
    this.#onError = onError;
  }

  /** Sends `query` on the lane's connection, opening it if there is none. */
  query(query: pg.QueryConfig): Promise<pg.QueryResult> {
    if (this.#closed) return Promise.reject(new Error('Client was closed and is not queryable'));
    const client = (this.#client ??= this.#connect());
    this.#holdWritesThisTurn(client);
    return client.query(query).catch((error: unknown) => {
      // An error the server sent (a statement cancelled, a constraint) leaves
      // the connection usable; any other (a deadline, a reset) does not, and
      // pg's `end` event comes a little later: a query sent meanwhile would
      // fail with it.
      if (typeof (error as { severity?: unknown } | null)?.severity !== 'string') this.#drop(client);
      throw error;
    });
  }

  #drop(client: pg.Client): void {
    if (this.#client === client) this.#client = undefined;
  }

  /** Ends the connection; queries after this fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client;
    this.#client = undefined;
    // Errors here are of a connection being closed anyway.
    await client?.end().catch(() => {});
  }

  #connect(): pg.Client {
    const client = this.#open();
    const drop = () => this.#drop(client);
    // pg fails every query queued or sent on a broken connection itself;
    // these only make the next query open a new one (and, without a
    // listener, an `error` event would end the process).
    client.on('error', (error: Error) => {
      drop();
      this.#onError(error);
    });
    client.on('end', drop);
    client.connect().catch(drop);
    return client;
  }

  /** Holds the socket's writes until the loop's check phase: the queries of one turn in one write. */
  #holdWritesThisTurn(client: pg.Client): void {
    if (this.#writesHeld) return;
    const stream = (client as unknown as { connection?: { stream?: NodeJS.WritableStream & { cork?(): void; uncork?(): void } } })
      .connection?.stream;
    if (typeof stream?.cork !== 'function' || typeof stream.uncork !== 'function') return;
    this.#writesHeld = true;
    stream.cork();
    setImmediate(() => {
      this.#writesHeld = false;
      stream.uncork!();
    });
  }
}
