import { CommandError, UsageError } from './errors.js';

/** Reads all of a non-TTY stdin and returns its first line (without the line break). */
async function firstLineOfStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/, 1)[0] ?? '';
}

/** Prompts on the terminal without echoing what is typed. */
function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let typed = '';
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (data: string) => {
      for (const char of data) {
        if (char === '\r' || char === '\n' || char === '\u0004') return done();
        if (char === '\u0003') return done(new CommandError('Cancelled'));
        if (char === '\u007f' || char === '\b') typed = typed.slice(0, -1);
        else typed += char;
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * A new password: from `--password`, else the first line of stdin when it
 * is not a terminal (for scripts: `echo secret | cimmeria user add ci`),
 * else prompted twice on the terminal without echo. An empty password is a
 * usage error.
 */
export async function readNewPassword(fromFlag: string | undefined): Promise<string> {
  let password: string;
  if (fromFlag !== undefined) password = fromFlag;
  else if (!process.stdin.isTTY) password = await firstLineOfStdin();
  else {
    password = await promptHidden('Password: ');
    if (password !== '' && (await promptHidden('Repeat password: ')) !== password) {
      throw new CommandError('The passwords do not match');
    }
  }
  // Bad input (exit code 2), as a missing argument is; mistyping the repeated one is a failed attempt (1).
  if (password === '') throw new UsageError('The password must not be empty');
  return password;
}
