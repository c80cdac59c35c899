import { sql, type Kysely } from 'kysely';

/**
 * The database's clock in microseconds since the epoch. Every node of a
 * cluster asks the same server, so publication times order across nodes
 * (rule 4 of DESIGN.md) whatever the nodes' own clocks say.
 * `clock_timestamp()` rather than `now()`: the time of the call, not of the
 * transaction's start.
 */
export async function postgresClock(db: Kysely<any>): Promise<number> {
  const { rows } = await sql<{ now: string | number }>`
    select (extract(epoch from clock_timestamp()) * 1000000)::bigint as now
  `.execute(db);
  // bigint arrives as a string from pg; microseconds stay below 2^53 until the year 2255.
  return Number(rows[0]!.now);
}
