import { compileFnmatch, MAX_PATTERN_LENGTH, type AuditEvent, type AuditQuery } from '@cimmeria/core';
import { z } from 'zod';
import { openMetadataStore } from '../backends/open-metadata.js';
import { UsageError } from '../errors.js';
import { BACKEND_OPTIONS, METADATA_USAGE, loadBackendConfig } from './backend-options.js';
import { durationSchema } from './gc.js';
import { parseCommandLine } from './parse.js';

export const AUDIT_USAGE = `Usage: cimmeria audit [options]

Lists the changes recorded in the audit trail, newest first: revisions
published, files overwritten, revisions, binaries and recipes deleted, users
added, removed or given a new password; who made each (user, token) and from
which address. Works while servers run. 'cimmeria gc' removes events older
than the auditRetentionDays setting (default 365).

Options:
  --since DURATION          only events of the last 30m, 24h, 7d...
  --user USER               only events by this user
  --ref PATTERN             only events about references matching this fnmatch
                            pattern: 'zlib/*', 'zlib/1.3' (and its revisions)
  --limit N                 at most N events (default 100, at most 10000)
  --json                    one JSON object per line instead of a table
${METADATA_USAGE}
  -h, --help                show this help
`;

const OPTIONS = {
  since: { type: 'string' },
  user: { type: 'string' },
  ref: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
  ...BACKEND_OPTIONS,
} as const;

const limitSchema = z.coerce
  .number({ error: 'expected an integer between 1 and 10000' })
  .int({ error: 'expected an integer between 1 and 10000' })
  .min(1, { error: 'expected an integer between 1 and 10000' })
  .max(10_000, { error: 'expected an integer between 1 and 10000' });

const usage = (message: string) => new UsageError(`${message}\nRun 'cimmeria audit --help' for usage.`);

/**
 * A `--ref` pattern as a predicate: the whole reference matches, or the
 * reference cut before one of its `#` does, so `zlib/1.3` finds every
 * revision and binary of it.
 */
function refPredicate(pattern: string): (ref: string) => boolean {
  if (pattern.length > MAX_PATTERN_LENGTH) throw usage(`--ref: longer than ${MAX_PATTERN_LENGTH} characters`);
  const compiled = compileFnmatch(pattern);
  return (ref) => {
    const cuts = [ref.length];
    for (let i = ref.indexOf('#'); i !== -1; i = ref.indexOf('#', i + 1)) cuts.push(i);
    return compiled.matchesAnyPrefix(ref, cuts);
  };
}

function row(event: AuditEvent): string {
  const who = event.actor?.user ?? '-';
  const token = event.actor?.tokenId === undefined ? '' : ` (token ${event.actor.tokenId})`;
  const from = event.actor?.address === undefined ? '' : ` from ${event.actor.address}`;
  const what = [event.ref, event.detail].filter((x) => x !== undefined).join(' ');
  return `${new Date(event.atMicros / 1000).toISOString()}  ${event.kind}  ${what}  by ${who}${token}${from}\n`;
}

function jsonLine(event: AuditEvent): string {
  return `${JSON.stringify({
    time: new Date(event.atMicros / 1000).toISOString(),
    kind: event.kind,
    ref: event.ref ?? null,
    detail: event.detail ?? null,
    user: event.actor?.user ?? null,
    tokenId: event.actor?.tokenId ?? null,
    address: event.actor?.address ?? null,
  })}\n`;
}

/** `cimmeria audit`. Resolves with the exit code. */
export async function auditCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(args, OPTIONS, 'audit');
  if (values.help) {
    process.stdout.write(AUDIT_USAGE);
    return 0;
  }
  if (positionals.length > 0) throw usage(`Unexpected argument '${positionals[0]}'`);
  const query: AuditQuery = { limit: 100 };
  if (values.limit !== undefined) {
    const parsed = limitSchema.safeParse(values.limit);
    if (!parsed.success) throw usage(`--limit: ${parsed.error.issues[0]?.message}`);
    query.limit = parsed.data;
  }
  if (values.since !== undefined) {
    const parsed = durationSchema.safeParse(values.since);
    if (!parsed.success) throw usage(`--since: ${parsed.error.issues[0]?.message}`);
    query.sinceMicros = (Date.now() - parsed.data) * 1000;
  }
  if (values.user !== undefined) query.user = values.user;
  if (values.ref !== undefined) query.refMatches = refPredicate(values.ref);

  const config = await loadBackendConfig(values);
  const { store, close } = await openMetadataStore(config);
  try {
    const events = await store.auditEvents(query);
    for (const event of events) process.stdout.write(values.json ? jsonLine(event) : row(event));
    return 0;
  } finally {
    await close();
  }
}
