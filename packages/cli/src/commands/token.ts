import {
  API_TOKEN_SCOPES,
  ApiTokens,
  ConanError,
  UserLookupUnsupportedError,
  formatTime,
  parseTokenLifetime,
  type ApiTokenRecord,
  type ApiTokenScope,
  type MetadataStore,
} from '@cimmeria/core';
import { openMetadataStore } from '../backends/open-metadata.js';
import type { CimmeriaConfig } from '../config/schema.js';
import { ldapAuthenticator } from '../ldap.js';
import { cliActor } from '../cli-actor.js';
import { CommandError, UsageError } from '../errors.js';
import { BACKEND_OPTIONS, METADATA_USAGE, loadBackendConfig } from './backend-options.js';
import { parseCommandLine } from './parse.js';

export const TOKEN_USAGE = `Usage: cimmeria token <command> [options]

Manages API tokens: long-lived credentials for CI, used where a password is
(conan remote login USER -p TOKEN, CONAN_PASSWORD, HTTP Basic) or as a
Bearer token. A token never grants more than its user has, narrowed by its
scope and pattern. Running servers look tokens up on every use: a revoked
token fails at its next use on every node.

Commands:
  create USER   create a token for USER (a static, database or, with ldap
                in search mode, directory user); prints the token alone on
                stdout, once (only a hash of it is stored)
  list [USER]   list tokens (of USER): id, user, name, scope, pattern,
                created, expires, last used
  revoke ID     revoke a token

Options:
  --name NAME               a label for people (create; default 'token')
  --scope SCOPE             read, write (default) or delete (create)
  --pattern PATTERN         limit to recipes matching name/version@user/channel,
                            fnmatch parts, e.g. 'zlib/*@*/*' (create)
  --expires LIFETIME        e.g. 90d, 12h, or never (create; default never)
${METADATA_USAGE}
  -h, --help                show this help
`;

const OPTIONS = {
  name: { type: 'string' },
  scope: { type: 'string' },
  pattern: { type: 'string' },
  expires: { type: 'string' },
  ...BACKEND_OPTIONS,
} as const;

const SUBCOMMANDS = ['create', 'list', 'revoke'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

const usage = (message: string) => new UsageError(`${message}\nRun 'cimmeria token --help' for usage.`);

const COLUMNS = ['ID', 'USER', 'NAME', 'SCOPE', 'PATTERN', 'CREATED', 'EXPIRES', 'LAST USED'];

function row(token: ApiTokenRecord): string[] {
  const time = (micros: number | undefined, none: string) => (micros === undefined ? none : formatTime(micros));
  return [
    token.id,
    token.user,
    token.name,
    token.scope,
    token.pattern ?? '*',
    formatTime(token.createdAtMicros),
    time(token.expiresAtMicros, 'never'),
    time(token.lastUsedAtMicros, '-'),
  ];
}

/** Columns padded to their widest cell, for people; one token a line. */
function table(rows: string[][]): string {
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

/**
 * Throws unless `user` is a static or database user, or (with `ldap`) found
 * in the directory now: as the server would check the token, without the
 * user's password.
 */
async function requireUser(user: string, config: CimmeriaConfig, store: MetadataStore, description: string): Promise<void> {
  if (Object.hasOwn(config.users, user) || (await store.getPasswordHash(user)) !== undefined) return;
  if (!config.ldap) throw new CommandError(`No user '${user}' in ${description} or the configuration`);
  const failures: unknown[] = [];
  const directory = await ldapAuthenticator(config.ldap, (error) => failures.push(error));
  let found;
  try {
    found = await directory.lookupUser(user);
  } catch (error) {
    if (error instanceof UserLookupUnsupportedError) {
      throw new CommandError(`No user '${user}' in ${description} or the configuration, and the LDAP directory cannot be asked: ${error.message}`);
    }
    if (error instanceof ConanError && error.code === 'UNAVAILABLE') {
      const why = failures[0] instanceof Error ? `: ${failures[0].message}` : '';
      throw new CommandError(`The LDAP directory ${config.ldap.url} did not answer${why}`);
    }
    throw error;
  }
  if (!found) throw new CommandError(`No user '${user}' in ${description}, the configuration or the LDAP directory`);
}

/** `cimmeria token create|list|revoke`. Resolves with the exit code. */
export async function tokenCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(args, OPTIONS, 'token');
  if (values.help) {
    process.stdout.write(TOKEN_USAGE);
    return 0;
  }
  const [sub, arg, ...rest] = positionals;
  if (sub === undefined) throw usage('Missing token command (create, list or revoke)');
  if (!SUBCOMMANDS.includes(sub as Subcommand)) throw usage(`Unknown token command '${sub}'`);
  const command = sub as Subcommand;
  if (command === 'create' && arg === undefined) throw usage('Missing user name: cimmeria token create USER');
  if (command === 'revoke' && arg === undefined) throw usage('Missing token id: cimmeria token revoke ID');
  if (rest.length > 0) throw usage(`Unexpected argument '${rest[0]}'`);
  for (const option of ['name', 'scope', 'pattern', 'expires'] as const) {
    if (values[option] !== undefined && command !== 'create') throw usage(`--${option} does not apply to 'token ${command}'`);
  }
  if (values.scope !== undefined && !API_TOKEN_SCOPES.includes(values.scope as ApiTokenScope)) {
    throw usage(`--scope must be read, write or delete (got '${values.scope}')`);
  }
  let expiresInSeconds: number | undefined;
  try {
    expiresInSeconds = parseTokenLifetime(values.expires ?? 'never');
  } catch (error) {
    if (error instanceof ConanError) throw usage(`--expires: ${error.message}`);
    throw error;
  }

  const config = await loadBackendConfig(values);
  const { store, description, close } = await openMetadataStore(config);
  try {
    const tokens = new ApiTokens(store);
    switch (command) {
      case 'create': {
        const user = arg!;
        await requireUser(user, config, store, description);
        let created;
        try {
          created = await tokens.create(user, {
            ...(values.name === undefined ? {} : { name: values.name }),
            ...(values.scope === undefined ? {} : { scope: values.scope as ApiTokenScope }),
            ...(values.pattern === undefined ? {} : { pattern: values.pattern }),
            ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
            actor: cliActor(),
          });
        } catch (error) {
          if (error instanceof ConanError && error.code === 'BAD_REQUEST') throw usage(error.message);
          throw error;
        }
        process.stdout.write(`${created.token}\n`);
        process.stderr.write(`Created token ${created.record.id} for '${user}' (shown once: it cannot be read back)\n`);
        return 0;
      }
      case 'list': {
        const list = await tokens.list(arg);
        if (list.length > 0) process.stdout.write(table([COLUMNS, ...list.map(row)]));
        return 0;
      }
      case 'revoke':
        if (!(await tokens.revoke(arg!, undefined, cliActor()))) throw new CommandError(`No token '${arg}' in ${description}`);
        process.stderr.write(`Revoked token ${arg}\n`);
        return 0;
    }
  } finally {
    await close();
  }
}
