import { userInfo } from 'node:os';
import type { AuditActor } from '@cimmeria/core';

/** The audit trail's "who" for changes made from the command line: the operating-system account, marked as such. */
export function cliActor(): AuditActor {
  try {
    return { user: `cli:${userInfo().username}` };
  } catch {
    return { user: 'cli' };
  }
}
