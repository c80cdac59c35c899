import { randomBytes } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';
import type { FileOwner } from '@cimmeria/core';
import {
  MIGRATION_LOCK_KEY,
  createPostgresMetadataStore,
  type PostgresConnectOptions,
  type PostgresMetadata,
} from '../src/index.js';

/** Where the tests find PostgreSQL. They fail, never skip, when it is not there: CI must run them. */
export const PG_URL = process.env.CIMMERIA_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A schema name no other test uses, so test files run in parallel on one database. */
export function freshSchemaName(): string {
  return `t_${randomBytes(6).toString('hex')}`;
}

/** Runs `fn` with a short-lived connection of its own (for set-up, checks and clean-up). */
export async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>, url = PG_URL): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'cimmeria-test-admin' });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`PostgreSQL is not reachable at ${url} (set CIMMERIA_PG_URL): ${String(error)}`, { cause: error });
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Drops a test schema under the migration lock: Kysely's migrator lists the
 * tables of every schema of the database, and a schema dropped in the middle
 * of that listing fails another test's migration ("schema ... does not exist").
 */
export async function dropSchema(schema: string): Promise<void> {
  await withAdmin(async (client) => {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    try {
      await client.query(`drop schema if exists "${schema}" cascade`);
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]);
    }
  });
}

export interface TestStore extends PostgresMetadata {
  schema: string;
  applicationName: string;
  dispose(): Promise<void>;
}

/**
 * A migrated store in a schema of its own, its connections tagged with a
 * unique application_name (to find and kill them), dropped on dispose.
 */
export async function openStore(options: Partial<PostgresConnectOptions> = {}): Promise<TestStore> {
  const schema = options.schema ?? freshSchemaName();
  const applicationName = options.applicationName ?? `cimmeria-test-${schema}`;
  const metadata = createPostgresMetadataStore({
    connectionString: PG_URL,
    ...options,
    schema,
    applicationName,
    pool: { max: 4, connectionTimeoutMillis: 3_000, ...options.pool },
  });
  try {
    await metadata.store.migrate();
  } catch (error) {
    await metadata.close();
    await dropSchema(schema).catch(() => {});
    throw error;
  }
  return {
    ...metadata,
    schema,
    applicationName,
    dispose: async () => {
      await metadata.close();
      await dropSchema(schema);
    },
  };
}

/** Terminates every backend of an application_name, as a server restart would; returns how many. */
export async function terminateBackends(applicationName: string): Promise<number> {
  return withAdmin(async (client) => {
    const { rows } = await client.query<{ pid: number }>(
      'select pid from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid()',
      [applicationName],
    );
    await client.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [applicationName]);
    // pg_terminate_backend only signals: wait until the backends are gone.
    for (let i = 0; i < 100; i += 1) {
      const { rows: left } = await client.query('select 1 from pg_stat_activity where application_name = $1', [applicationName]);
      if (left.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return rows.length;
  });
}

/**
 * A TCP relay in front of PostgreSQL that can go down like a server does:
 * `down()` closes every relayed connection and refuses new ones; `hang()`
 * accepts connections and never answers (a black-holed network); `up()`
 * relays again on the same port.
 */
export class FlakyProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private mode: 'relay' | 'hang' = 'relay';
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  static forUrl(url: string): FlakyProxy {
    const parsed = new URL(url);
    return new FlakyProxy({ host: parsed.hostname || '127.0.0.1', port: Number(parsed.port || 5432) });
  }

  /** `url` with host and port replaced by the proxy's. */
  urlFor(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  async up(): Promise<void> {
    this.mode = 'relay';
    if (this.server) return;
    const server = net.createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Keeps listening, but new connections get no answer; existing ones are cut. */
  hang(): void {
    this.mode = 'hang';
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private accept(client: net.Socket): void {
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => {});
    if (this.mode === 'hang') return;
    const upstream = net.connect(this.target.port, this.target.host);
    this.sockets.add(upstream);
    upstream.on('close', () => {
      this.sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

/** The recipe most tests publish, a revision of it, and a blob entry per number. */
export const hello = { name: 'hello', version: '1.0' };
export const helloOwner: FileOwner = { kind: 'recipe', ref: { ...hello, revision: 'aaa1' } };
export const testBlob = (n: number) => ({ key: `blobs/t/${n}`, size: 3, sha1: 'a'.repeat(40), sha256: 'b'.repeat(64) });

/** Polls `condition` every 20 ms until it holds; throws after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
