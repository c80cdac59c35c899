import { hashPassword } from '@cimmeria/core';
import { userNameProblem } from '../config/schema.js';
import { openMetadataStore } from '../backends/open-metadata.js';
import { cliActor } from '../cli-actor.js';
import { CommandError, UsageError } from '../errors.js';
import { readNewPassword } from '../password-input.js';
import { BACKEND_OPTIONS, METADATA_USAGE, loadBackendConfig } from './backend-options.js';
import { parseCommandLine } from './parse.js';

export const USER_USAGE = `Usage: cimmeria user <command> [options]

Manages the users kept in the metadata database. Running servers see the
changes at once.

Commands:
  add NAME      create a user
  passwd NAME   set a user's password
  remove NAME   delete a user
  list          list users, one a line

Options:
  --password P              the password (add, passwd); otherwise the first line
                            of stdin, or a prompt without echo on a terminal
${METADATA_USAGE}
  -h, --help                show this help

Users listed in the config file or a conan_server conf are not managed here.
`;

const OPTIONS = {
  password: { type: 'string' },
  ...BACKEND_OPTIONS,
} as const;

const SUBCOMMANDS = ['add', 'passwd', 'remove', 'list'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];


const usage = (message: string) => new UsageError(`${message}\nRun 'cimmeria user --help' for usage.`);

/** `cimmeria user add|passwd|remove|list`. Resolves with the exit code. */
export async function userCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(args, OPTIONS, 'user');
  if (values.help) {
    process.stdout.write(USER_USAGE);
    return 0;
  }
  const [sub, name, ...rest] = positionals;
  if (sub === undefined) throw usage('Missing user command (add, passwd, remove or list)');
  if (!SUBCOMMANDS.includes(sub as Subcommand)) throw usage(`Unknown user command '${sub}'`);
  const command = sub as Subcommand;
  if (command === 'list' ? name !== undefined : name === undefined) {
    throw usage(command === 'list' ? `Unexpected argument '${name}'` : `Missing user name: cimmeria user ${command} NAME`);
  }
  if (rest.length > 0) throw usage(`Unexpected argument '${rest[0]}'`);
  if (values.password !== undefined && command !== 'add' && command !== 'passwd') {
    throw usage(`--password does not apply to 'user ${command}'`);
  }
  // A name no client could use is bad input, like a missing one: exit code 2.
  const nameProblem = command === 'add' ? userNameProblem(name!) : undefined;
  if (nameProblem) throw new UsageError(`Invalid user name '${name}': it ${nameProblem}`);

  const config = await loadBackendConfig(values);
  // Ask for the password before opening the database, so a prompt holds no lock.
  const password = command === 'add' || command === 'passwd' ? await readNewPassword(values.password) : undefined;
  const { store, description, close } = await openMetadataStore(config);
  try {
    const exists = name !== undefined && (await store.getPasswordHash(name)) !== undefined;
    switch (command) {
      case 'list':
        for (const user of await store.listUsers()) process.stdout.write(`${user}\n`);
        return 0;
      case 'add':
        if (exists || !(await store.addUser(name!, await hashPassword(password!), cliActor()))) {
          throw new CommandError(`User '${name}' already exists (change its password with 'cimmeria user passwd ${name}')`);
        }
        process.stderr.write(`Added user '${name}'\n`);
        break;
      case 'passwd':
        if (!exists) throw new CommandError(`No user '${name}' in ${description} (add it with 'cimmeria user add ${name}')`);
        await store.setPasswordHash(name!, await hashPassword(password!), cliActor());
        process.stderr.write(`Changed the password of '${name}'\n`);
        break;
      case 'remove':
        if (!(await store.deleteUser(name!, cliActor()))) throw new CommandError(`No user '${name}' in ${description}`);
        process.stderr.write(`Removed user '${name}'\n`);
        if ((await store.listUsers()).length === 0 && Object.keys(config.users).length === 0) {
          process.stderr.write("No users left: the next 'cimmeria serve' creates 'admin' with a new password.\n");
        }
        break;
    }
    if (name !== undefined && Object.hasOwn(config.users, name)) {
      process.stderr.write(`Note: '${name}' is also defined in the configuration, which is checked first at login.\n`);
    }
    return 0;
  } finally {
    await close();
  }
}
