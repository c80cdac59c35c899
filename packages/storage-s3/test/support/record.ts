import type { S3Client } from '@aws-sdk/client-s3';

/** One command a client sent, with its input and its output or error. */
export interface SentCommand {
  command: string;
  input: Record<string, unknown>;
  output?: Record<string, unknown>;
  error?: unknown;
}

/** Records every command the client sends (outermost step, so retries count once). */
export function recordCommands(client: S3Client): SentCommand[] {
  const sent: SentCommand[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const entry: SentCommand = { command: context.commandName ?? '?', input: args.input as Record<string, unknown> };
      sent.push(entry);
      try {
        const result = await next(args);
        entry.output = result.output as unknown as Record<string, unknown>;
        return result;
      } catch (error) {
        entry.error = error;
        throw error;
      }
    },
    { step: 'initialize', name: 'cimmeriaTestRecorder' },
  );
  return sent;
}

/** Makes every `commandName` the client sends fail with `error` before it reaches the network. */
export function failCommand(client: S3Client, commandName: string, error: Error): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === commandName) throw error;
      return next(args);
    },
    { step: 'initialize', name: `cimmeriaTestFail${commandName}` },
  );
}
