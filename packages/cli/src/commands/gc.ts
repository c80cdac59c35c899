import { collectGarbage, DEFAULT_GC_GRACE_MS, type GarbageReport } from '@cimmeria/core';
import { z } from 'zod';
import { withStores } from '../backends/open-stores.js';
import { CommandError, UsageError } from '../errors.js';
import { formatBytes } from '../format.js';
import { BACKEND_OPTIONS, BACKEND_USAGE, loadBackendConfig } from './backend-options.js';
import { parseCommandLine } from './parse.js';

export const GC_USAGE = `Usage: cimmeria gc [options]

Removes stored files that no revision uses any more (deleted revisions,
replaced files, interrupted uploads), and what uploads cut off by a crash
left in the blob store (temporary files, incomplete S3 multipart uploads),
and reports the bytes freed. Also removes audit events older than the
auditRetentionDays setting (default 365). Files and uploads younger than the grace
period are kept whatever uses them, so gc is safe while servers are running
and uploading.

Options:
  --dry-run                 report what would be removed, remove nothing
  --grace DURATION          keep files younger than this: 30m, 24h, 7d, 0
                            (default 24h)
${BACKEND_USAGE}
  -h, --help                show this help
`;

const OPTIONS = {
  'dry-run': { type: 'boolean' },
  grace: { type: 'string' },
  ...BACKEND_OPTIONS,
} as const;

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `30m`, `24h`, `7d`, `0` -> milliseconds. */
export const durationSchema = z
  .string()
  .trim()
  .transform((text, ctx) => {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text);
    // A bare number other than 0 is ambiguous (hours? seconds?): ask for a unit.
    if (!match || (match[2] === undefined && Number(match[1]) !== 0)) {
      ctx.issues.push({ code: 'custom', message: 'expected a duration such as 30m, 24h or 7d (or 0)', input: text });
      return z.NEVER;
    }
    return Number(match[1]) * DURATION_UNITS[match[2] ?? 'ms']!;
  });

function summary(report: GarbageReport): string {
  const verb = report.dryRun ? 'would remove' : 'removed';
  const revisions = report.purged.recipeRevisions + report.purged.packageRevisions;
  const uploads = report.abandonedUploads;
  return (
    `${verb} ${report.removed} unused file(s), ${formatBytes(report.bytesFreed)} ` +
    `(${report.scanned} scanned, ${report.keptYoung} younger than the grace period kept); ` +
    `${report.dryRun ? 'would forget' : 'forgot'} ${revisions} deleted or abandoned revision(s)` +
    (uploads ? `; ${verb} ${uploads.removed} abandoned upload(s), ${formatBytes(uploads.bytes)}` : '')
  );
}

/** `cimmeria gc`. Resolves with the exit code: 1 when some files could not be deleted. */
export async function gcCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(args, OPTIONS, 'gc');
  if (values.help) {
    process.stdout.write(GC_USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`Unexpected argument '${positionals[0]}'\nRun 'cimmeria gc --help' for usage.`);
  let graceMs = DEFAULT_GC_GRACE_MS;
  if (values.grace !== undefined) {
    const parsed = durationSchema.safeParse(values.grace);
    if (!parsed.success) throw new UsageError(`--grace: ${parsed.error.issues[0]?.message}\nRun 'cimmeria gc --help' for usage.`);
    graceMs = parsed.data;
  }
  const config = await loadBackendConfig(values);
  return withStores(config, async ({ metadata, blobs }) => {
    let lastPrint = Date.now();
    const report = await collectGarbage({
      metadata: metadata.store,
      blobs: blobs.store,
      graceMs,
      dryRun: values['dry-run'] ?? false,
      onProgress: (progress) => {
        if (Date.now() - lastPrint < 1000) return;
        lastPrint = Date.now();
        process.stderr.write(`gc: ${summary(progress)}...\n`);
      },
    });
    // Retention of the audit trail: the cut-off is this process's clock, days are coarse enough.
    const auditCutoff = (Date.now() - config.auditRetentionDays * 86_400_000) * 1000;
    const pruned = await metadata.store.pruneAudit(auditCutoff, { dryRun: report.dryRun });
    process.stdout.write(`${summary(report)}; ${report.dryRun ? 'would remove' : 'removed'} ${pruned} audit event(s) older than ${config.auditRetentionDays} days\n`);
    for (const failure of report.failed) process.stderr.write(`gc: could not delete ${failure.key}: ${failure.message}\n`);
    if (report.failed.length > 0) {
      throw new CommandError(`${report.failed.length} file(s) or upload(s) could not be deleted; the next gc retries them`);
    }
    return 0;
  });
}
