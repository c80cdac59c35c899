import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Suffix of the throwaway directory. */
export const LDAP_BASE = 'dc=example,dc=org';
/** Directory manager (rootdn): the service account of search-mode tests. */
export const LDAP_ADMIN = { dn: `cn=admin,${LDAP_BASE}`, password: 'admin-secret' };

/** Users of the throwaway directory: uid -> password. */
export const LDAP_USERS = { alice: 'alice-pass', bob: 'bob-pass' } as const;

const SLAPD = ['/usr/sbin/slapd', '/usr/local/sbin/slapd'].find((p) => existsSync(p)) ?? 'slapd';
const SLAPADD = ['/usr/sbin/slapadd', '/usr/local/sbin/slapadd'].find((p) => existsSync(p)) ?? 'slapadd';

function ldif(): string {
  const users = Object.entries(LDAP_USERS).map(
    ([uid, password]) => `dn: uid=${uid},ou=people,${LDAP_BASE}
objectClass: inetOrgPerson
uid: ${uid}
cn: ${uid}
sn: ${uid}
userPassword: ${password}
`,
  );
  return [
    `dn: ${LDAP_BASE}
objectClass: dcObject
objectClass: organization
dc: example
o: Example
`,
    `dn: ou=people,${LDAP_BASE}
objectClass: organizationalUnit
ou: people
`,
    `dn: ou=groups,${LDAP_BASE}
objectClass: organizationalUnit
ou: groups
`,
    ...users,
    // A second alice elsewhere in the tree (same password): a search over the whole tree is ambiguous.
    `dn: ou=contractors,${LDAP_BASE}
objectClass: organizationalUnit
ou: contractors
`,
    `dn: uid=alice,ou=contractors,${LDAP_BASE}
objectClass: inetOrgPerson
uid: alice
cn: alice
sn: alice
userPassword: ${LDAP_USERS.alice}
`,
    // alice writes through her group; bob is in no group.
    `dn: cn=conan-writers,ou=groups,${LDAP_BASE}
objectClass: groupOfNames
cn: conan-writers
member: uid=alice,ou=people,${LDAP_BASE}
`,
  ].join('\n');
}

/**
 * Active Directory's userAccountControl and 389 Directory Server's
 * nsAccountLock (their real OIDs), on an auxiliary class under a private
 * arc, so OpenLDAP can hold the marks other directories put on disabled accounts.
 */
export const ACCOUNT_FLAGS_SCHEMA = `attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl' EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 2.16.840.1.113730.3.1.610 NAME 'nsAccountLock' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.55555.1.1 NAME 'cimmeriaTestAccountFlags' AUXILIARY MAY ( userAccountControl $ nsAccountLock ) )
`;

/** A free loopback port (closed again: slapd binds it next). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitForPort(port: number, child: ChildProcess, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`slapd exited with ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`slapd did not listen on ${port} within ${deadlineMs} ms`);
}

/** A running throwaway OpenLDAP server. */
export interface Slapd {
  url: string;
  /** With `tls`: the `ldaps://` URL, and the PEM of the CA that signed the server's certificate (for 127.0.0.1). */
  ldapsUrl?: string;
  caPem?: string;
  stop(): Promise<void>;
}

/** A throwaway CA and a certificate for 127.0.0.1 signed by it, made with openssl in `dir`. */
async function makeCertificates(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const at = (name: string) => join(dir, name);
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('ca.key'), '-out', at('ca.pem'), '-days', '1', '-subj', '/CN=cimmeria test CA']);
  await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('server.key'), '-out', at('server.csr'), '-subj', '/CN=127.0.0.1']);
  await writeFile(at('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  await run('openssl', ['x509', '-req', '-in', at('server.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial', '-out', at('server.pem'), '-days', '1', '-extfile', at('san.ext')]);
  return { ca: at('ca.pem'), cert: at('server.pem'), key: at('server.key') };
}

/**
 * Starts OpenLDAP's slapd on a random loopback port with a generated
 * slapd.conf (mdb backend) in a temp directory, loaded with {@link LDAP_USERS}
 * and the group `conan-writers` (alice). No system service is involved.
 * `schema`: more schema text (slapd.conf syntax), e.g. attributes of other
 * directories ({@link ACCOUNT_FLAGS_SCHEMA}).
 */
export async function startSlapd(options: { tls?: boolean; schema?: string } = {}): Promise<Slapd> {
  const dir = await mkdtemp(join(tmpdir(), 'cimmeria-slapd-'));
  await mkdir(join(dir, 'db'));
  const certs = options.tls ? await makeCertificates(dir) : undefined;
  const schema = (name: string) => `include /etc/ldap/schema/${name}.schema`;
  const conf = [
    schema('core'),
    schema('cosine'),
    schema('inetorgperson'),
    schema('nis'),
    ...(options.schema === undefined ? [] : [`include ${join(dir, 'extra.schema')}`]),
    `pidfile ${join(dir, 'slapd.pid')}`,
    ...(certs ? [`TLSCACertificateFile ${certs.ca}`, `TLSCertificateFile ${certs.cert}`, `TLSCertificateKeyFile ${certs.key}`] : []),
    // Like many directories (Active Directory among them): a DN with an empty password binds anonymously.
    'allow bind_anon_dn',
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    // Users may bind with their password; nobody but the manager reads passwords; everything else is readable.
    'access to attrs=userPassword by anonymous auth by * none',
    'access to * by * read',
    'database mdb',
    `suffix "${LDAP_BASE}"`,
    `rootdn "${LDAP_ADMIN.dn}"`,
    `rootpw ${LDAP_ADMIN.password}`,
    `directory ${join(dir, 'db')}`,
    'maxsize 10485760',
    '',
  ].join('\n');
  if (options.schema !== undefined) await writeFile(join(dir, 'extra.schema'), options.schema);
  await writeFile(join(dir, 'slapd.conf'), conf);
  await writeFile(join(dir, 'data.ldif'), ldif());
  await run(SLAPADD, ['-f', join(dir, 'slapd.conf'), '-l', join(dir, 'data.ldif')]);
  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  const tlsPort = certs ? await freePort() : undefined;
  const ldapsUrl = tlsPort === undefined ? undefined : `ldaps://127.0.0.1:${tlsPort}`;
  const listen = ldapsUrl ? `${url}/ ${ldapsUrl}/` : `${url}/`;
  // -d 0: stay in the foreground, so the child is slapd itself and ends with the test.
  const child = spawn(SLAPD, ['-f', join(dir, 'slapd.conf'), '-h', listen, '-d', '0'], { stdio: 'ignore' });
  try {
    await waitForPort(port, child, 10_000);
    if (tlsPort !== undefined) await waitForPort(tlsPort, child, 10_000);
  } catch (error) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const caPem = certs ? await readFile(certs.ca, 'utf8') : undefined;
  return {
    url,
    ...(ldapsUrl ? { ldapsUrl, caPem } : {}),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A loopback TCP server that accepts connections and never answers: a hung directory. */
export async function startSilentServer(): Promise<{ url: string; stop: () => Promise<void> }> {
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `ldap://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
