import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { login } from './login.js';

/**
 * The code blocks of README.md that readers copy, and the ways the tests run
 * them: as written (an ES module), as a CommonJS module, as TypeScript. Both
 * the README test (against the workspace) and the packaging test (against
 * the packed tarballs installed with npm) take their code from here, so
 * what they run is what the README shows.
 */

export const README_PATH = new URL('../../README.md', import.meta.url).pathname;

/** A fenced code block of README.md. */
export interface Snippet {
  lang: string;
  code: string;
  /** The `##`/`###` heading it sits under. */
  heading: string;
}

/** Every fenced code block of the README, in order. */
export function readmeSnippets(readme = readFileSync(README_PATH, 'utf8')): Snippet[] {
  const snippets: Snippet[] = [];
  let heading = '';
  let open: Snippet | undefined;
  for (const line of readme.split('\n')) {
    if (open) {
      if (line.startsWith('```')) {
        snippets.push(open);
        open = undefined;
      } else {
        open.code += `${line}\n`;
      }
    } else if (line.startsWith('```')) {
      open = { lang: line.slice(3).trim(), code: '', heading };
    } else if (/^#{2,3} /.test(line)) {
      heading = line.replace(/^#+ /, '');
    }
  }
  return snippets;
}

/** The one JavaScript/TypeScript block under `heading` that contains `marker`. */
export function snippet(heading: string, marker: string): string {
  const found = readmeSnippets().filter(
    (s) => s.heading === heading && ['js', 'ts'].includes(s.lang) && s.code.includes(marker),
  );
  expect(found, `README blocks under "${heading}" containing ${marker}`).toHaveLength(1);
  return found[0]!.code;
}

/** The embedding example: SQLite and a local directory, served by node:http. */
export const embeddingSnippet = () => snippet('Embedding', 'createRegistry(');

/** The PostgreSQL + S3 stores that replace the embedding example's stores. */
export const backendSwapSnippet = () => snippet('Embedding', 'createPostgresMetadataStore(');

/** The CLI's programmatic use. */
export const programmaticSnippet = () => snippet('Programmatic use', 'startServer(');

const STORES_START = '// Stores:';
const STORES_END = 'const blobs =';

/**
 * The embedding example with its stores replaced by `swap`, as the README
 * tells the reader to do: the lines from `// Stores:` to `const blobs` give
 * way to the swap's (its imports join the others).
 */
export function swapStores(embedding: string, swap: string): string {
  const lines = embedding.split('\n');
  const from = lines.findIndex((l) => l.startsWith(STORES_START));
  const to = lines.findIndex((l) => l.startsWith(STORES_END));
  expect(from, 'the embedding example marks its stores').toBeGreaterThanOrEqual(0);
  expect(to, 'the embedding example ends its stores with const blobs').toBeGreaterThan(from);
  const { imports, body } = splitImports(swap);
  const embeddingParts = splitImports([...lines.slice(0, from), body.trim(), ...lines.slice(to + 1)].join('\n'));
  return `${embeddingParts.imports}${imports}\n${embeddingParts.body}`;
}

/** `code` with `literal` (which must occur exactly once, so the README and the test cannot drift apart) replaced. */
export function withLiteral(code: string, literal: string, replacement: string): string {
  expect(code.split(literal).length - 1, `occurrences of ${literal} in the README code`).toBe(1);
  return code.replace(literal, () => replacement);
}

/** How an app holds the code: as an ES module or CommonJS, written in JavaScript or TypeScript. */
export type Flavor = 'esm' | 'cjs' | 'ts-esm' | 'ts-cjs';

/**
 * The code as an app of `flavor` holds it. ES modules take it as written.
 * CommonJS has no top-level `await`: the README says to put the code in an
 * `async` function, after `require`s of the same names (TypeScript compiles
 * the imports of a `.cts` file to those `require`s itself).
 */
export function asProgram(code: string, flavor: Flavor): string {
  if (flavor === 'esm' || flavor === 'ts-esm') return code;
  const { imports, body } = splitImports(code);
  const head = flavor === 'cjs' ? importsAsRequires(imports) : imports;
  return `${head}\nasync function main() {\n${body}}\n\nmain().catch((error) => {\n  console.error(error);\n  process.exit(1);\n});\n`;
}

/** The leading `import { ... } from '...';` statements of `code`, and the rest. */
function splitImports(code: string): { imports: string; body: string } {
  const statement = /^import \{[^}]*\} from '[^']+';\n/;
  let imports = '';
  let rest = code.replace(/^\s+/, '');
  for (let match = statement.exec(rest); match; match = statement.exec(rest)) {
    imports += match[0];
    rest = rest.slice(match[0].length).replace(/^\n+/, '');
  }
  expect(/^import /m.test(rest), 'README code imports at the top only, with named imports').toBe(false);
  return { imports, body: rest };
}

function importsAsRequires(imports: string): string {
  return imports.replace(/^import \{([^}]*)\} from '([^']+)';$/gm, (_, names: string, from: string) => {
    const bindings = names.split(',').map((n) => n.trim()).filter((n) => n !== '');
    return `const { ${bindings.join(', ')} } = require('${from}');`;
  });
}

/** A README example running in a child process. */
export interface RunningSnippet {
  /** The URL it printed (`Conan remote: URL`). */
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/** Runs `node file` in `cwd` and waits for the `Conan remote: URL` line the embedding example prints. */
export async function startSnippet(file: string, cwd: string, env: NodeJS.ProcessEnv): Promise<RunningSnippet> {
  const child: ChildProcess = spawn(process.execPath, [file], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Conan remote: (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code, signal) => reject(new Error(`${file} exited (${code ?? signal}) before listening:\n${output}`)));
  });
  return {
    url,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${file} died while serving:\n${output}`);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Runs `node file` to its end; resolves with its exit code and output. */
export function runToEnd(file: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} still running after ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The environment an example runs with: the user's, a token secret, a free port, nothing from the test's package manager. */
export function snippetEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  return { ...env, TOKEN_SECRET: 'readme-snippet-token-secret-0123456789', PORT: '0', ...extra };
}

const sha1 = (bytes: string | Uint8Array) => createHash('sha1').update(bytes).digest('hex');
const md5 = (bytes: string | Uint8Array) => createHash('md5').update(bytes).digest('hex');

/**
 * What a user of the README example does: log in as `ci` (password
 * `secret`, as the example says), upload a recipe revision with a binary
 * file, and download it again.
 */
export async function uploadAndDownload(url: string): Promise<void> {
  const token = await login(url, 'ci', 'secret');
  const files = `${url}/v2/conans/readme/1.0/_/_/revisions/4f1e2d/files`;
  const conanfile = 'from conan import ConanFile\n';
  const tarball = new Uint8Array(256 * 1024).map((_, i) => (i * 31 + 7) % 251);
  const uploads: [string, string | Uint8Array<ArrayBuffer>][] = [
    ['conanfile.py', conanfile],
    ['conan_export.tgz', tarball],
    // The client uploads the manifest last; it lists the conanfile's md5.
    ['conanmanifest.txt', `123\nconanfile.py: ${md5(conanfile)}\n`],
  ];
  for (const [path, body] of uploads) {
    const response = await fetch(`${files}/${path}`, {
      method: 'PUT',
      body,
      headers: { authorization: `Bearer ${token}`, 'x-checksum-sha1': sha1(body) },
    });
    expect(response.status, `upload of ${path}: ${await response.clone().text()}`).toBe(200);
  }
  const latest = await fetch(`${url}/v2/conans/readme/1.0/_/_/latest`);
  expect((await latest.json()).revision).toBe('4f1e2d');
  const download = await fetch(`${files}/conan_export.tgz`);
  expect(download.status).toBe(200);
  expect(new Uint8Array(await download.arrayBuffer())).toEqual(tarball);
  expect(await (await fetch(`${files}/conanfile.py`)).text()).toBe(conanfile);
}
