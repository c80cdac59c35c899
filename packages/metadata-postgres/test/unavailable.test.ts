import { describe, expect, it } from 'vitest';
import { isPostgresUnavailable } from '../src/index.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isPostgresUnavailable', () => {
  it.each([
    ['refused', withCode('ECONNREFUSED')],
    ['reset', withCode('ECONNRESET')],
    ['admin_shutdown', withCode('57P01')],
    ['crash_shutdown', withCode('57P02')],
    ['cannot_connect_now', withCode('57P03')],
    ['too_many_connections', withCode('53300')],
    ['query_canceled (statement_timeout)', withCode('57014', 'canceling statement due to statement timeout')],
    ['idle_in_transaction_session_timeout', withCode('25P03')],
    ['query read timeout (query_timeout)', new Error('Query read timeout')],
    ['connection_failure', withCode('08006')],
    ['sqlclient_unable_to_establish_sqlconnection', withCode('08001')],
    ['socket closed under a query', new Error('Connection terminated unexpectedly')],
    ['pool connect timeout', new Error('timeout exceeded when trying to connect')],
    ['client connect timeout', new Error('Connection terminated due to connection timeout', { cause: new Error('timeout expired') })],
    ['broken client', new Error('Client has encountered a connection error and is not queryable')],
    ['dual-stack connect', new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], 'connect')],
    ['wrapped', new Error('Migration failed', { cause: withCode('57P03') })],
  ])('counts %s as unavailable', (_, error) => {
    expect(isPostgresUnavailable(error)).toBe(true);
  });

  it.each([
    ['unique_violation', withCode('23505')],
    ['syntax_error', withCode('42601')],
    ['undefined_table', withCode('42P01')],
    ['serialization_failure', withCode('40001')],
    ['a plain error', new Error('boom')],
    ['not an error', 'ECONNREFUSED'],
    ['nothing', undefined],
  ])('does not count %s as unavailable', (_, error) => {
    expect(isPostgresUnavailable(error)).toBe(false);
  });
});
