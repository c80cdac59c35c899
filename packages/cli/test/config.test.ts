import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULTS, loadConfig, verifyPasswordFor } from './support/api.js';
import { runCli, startServe } from './support/cli-process.js';
import { tempDirEachTest } from './support/hooks.js';

const tmp = tempDirEachTest();

const SERVER_CONF = new URL('../../../conformance/server.conf', import.meta.url).pathname;

describe('config validation (real process)', () => {
  it('stops with exit code 2 and names the key and the variable for a bad CIMMERIA_PORT', async () => {
    const result = await runCli(['serve', '--data', tmp.dir], { env: { CIMMERIA_PORT: 'ninety' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'Invalid configuration: port: expected an integer between 0 and 65535 (from CIMMERIA_PORT)',
    );
    expect(result.stderr).not.toMatch(/at .*\.js:\d+/); // a message, not a stack trace
  });

  it('names the key and the file for a bad value in a YAML config file', async () => {
    const file = join(tmp.dir, 'cimmeria.yaml');
    await writeFile(file, 'port: 0\nmaxUploadBytes: lots\npermissions:\n  write:\n    - pattern: "zlib"\n      users: [ci]\n');
    const result = await runCli(['serve', '--data', tmp.dir, '--config', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`Invalid configuration: maxUploadBytes: expected a positive number of bytes`);
    expect(result.stderr).toContain(`(from config file ${file})`);
    expect(result.stderr).toMatch(/permissions\.write\[0\]\.pattern: expected a reference pattern/);
  });

  it('refuses unknown settings in a JSON config file', async () => {
    const file = join(tmp.dir, 'cimmeria.json');
    await writeFile(file, JSON.stringify({ prot: 9300 }));
    const result = await runCli(['serve', '--config', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`Invalid configuration: prot: unknown setting (from config file ${file})`);
  });

  it('refuses a config file it cannot parse', async () => {
    const file = join(tmp.dir, 'cimmeria.json');
    await writeFile(file, '{ "port": ');
    const result = await runCli(['serve', '--config', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`Config file ${file} is not valid JSON`);
  });

  it('serves with settings from a YAML config file', async () => {
    const file = join(tmp.dir, 'cimmeria.yml');
    await writeFile(file, `port: 0\nhost: 127.0.0.1\ndata: ${JSON.stringify(join(tmp.dir, 'data'))}\nlogLevel: warn\n`);
    const serve = await startServe(['--config', file]);
    try {
      expect(serve.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${serve.url}/v2/ping`)).status).toBe(200);
    } finally {
      expect(await serve.stop()).toBe(0);
    }
    // logLevel warn: no request lines, no "listening" line.
    expect(serve.stdout()).toBe('');
  });

  it('answers usage errors with exit code 2 and help with 0', async () => {
    expect((await runCli(['launch'])).code).toBe(2);
    expect((await runCli([])).code).toBe(2);
    const unknownFlag = await runCli(['serve', '--prot', '1']);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toContain("Unknown option '--prot'");
    for (const args of [['--help'], ['serve', '--help'], ['user', '--help'], ['hash-password', '--help']]) {
      const result = await runCli(args);
      expect(result.code, args.join(' ')).toBe(0);
      expect(result.stdout).toMatch(/^Usage: cimmeria/);
    }
  });
});

describe('loadConfig', () => {
  it('applies defaults and resolves the data directory', async () => {
    const config = await loadConfig({ env: {}, cwd: tmp.dir });
    expect(config).toMatchObject({
      port: DEFAULTS.port,
      host: '0.0.0.0',
      data: join(tmp.dir, 'cimmeria-data'),
      tokenExpiresMinutes: 120,
      logLevel: 'info',
      users: {},
      permissions: {},
    });
    expect(config.tokenSecret).toBeUndefined();
  });

  it('reads JSON and YAML files alike', async () => {
    const settings = {
      port: 9400,
      maxUploadBytes: '2GiB',
      permissions: { write: [{ pattern: '*/*@acme/*', users: 'ci, release' }] },
    };
    await writeFile(join(tmp.dir, 'a.json'), JSON.stringify(settings));
    await writeFile(
      join(tmp.dir, 'a.yaml'),
      'port: 9400\nmaxUploadBytes: 2GiB\npermissions:\n  write:\n    - pattern: "*/*@acme/*"\n      users: ci, release\n',
    );
    for (const file of ['a.json', 'a.yaml']) {
      const config = await loadConfig({ env: {}, cwd: tmp.dir, configFile: file });
      expect(config.port).toBe(9400);
      expect(config.maxUploadBytes).toBe(2 * 1024 ** 3);
      expect(config.permissions.write).toEqual([{ pattern: '*/*@acme/*', users: ['ci', 'release'] }]);
    }
  });

  it('reads maxTextFileBytes (issue 8 item 5) and reuploadMakesLatest (issue 9 item 2), defaulting to 1 MiB and false', async () => {
    const defaults = await loadConfig({ env: {}, cwd: tmp.dir });
    expect(defaults.maxTextFileBytes).toBe(1024 ** 2);
    expect(defaults.reuploadMakesLatest).toBe(false);
    const fromEnv = await loadConfig({
      env: { CIMMERIA_MAX_TEXT_FILE_BYTES: '64KiB', CIMMERIA_REUPLOAD_MAKES_LATEST: 'true' },
      cwd: tmp.dir,
    });
    expect(fromEnv.maxTextFileBytes).toBe(64 * 1024);
    expect(fromEnv.reuploadMakesLatest).toBe(true);
    await writeFile(join(tmp.dir, 'r.yaml'), 'reuploadMakesLatest: true\nmaxTextFileBytes: 2MiB\n');
    const fromFile = await loadConfig({ env: {}, cwd: tmp.dir, configFile: 'r.yaml' });
    expect(fromFile).toMatchObject({ reuploadMakesLatest: true, maxTextFileBytes: 2 * 1024 ** 2 });
    await expect(loadConfig({ env: { CIMMERIA_REUPLOAD_MAKES_LATEST: 'sometimes' }, cwd: tmp.dir })).rejects.toThrow(
      'reuploadMakesLatest: expected true or false (from CIMMERIA_REUPLOAD_MAKES_LATEST)',
    );
  });

  it('issue 10: reads databasePreparedStatements, default true, false from the environment or a file', async () => {
    expect((await loadConfig({ env: {}, cwd: tmp.dir })).databasePreparedStatements).toBe(true);
    const fromEnv = await loadConfig({ env: { CIMMERIA_DATABASE_PREPARED_STATEMENTS: 'false' }, cwd: tmp.dir });
    expect(fromEnv.databasePreparedStatements).toBe(false);
    await writeFile(join(tmp.dir, 'p.yaml'), 'databasePreparedStatements: false\n');
    expect((await loadConfig({ env: {}, cwd: tmp.dir, configFile: 'p.yaml' })).databasePreparedStatements).toBe(false);
  });

  it('merges flags > environment > config file > conan_server conf', async () => {
    await writeFile(join(tmp.dir, 'c.yaml'), 'port: 9401\nhost: 10.0.0.1\nlogLevel: debug\n');
    const config = await loadConfig({
      cwd: tmp.dir,
      conanServerConf: SERVER_CONF,
      configFile: 'c.yaml',
      onWarning: () => {},
      env: { CIMMERIA_HOST: '127.0.0.2', CIMMERIA_LOG_LEVEL: 'warn' },
      flags: { logLevel: 'error', data: 'elsewhere' },
    });
    expect(config.port).toBe(9401); // file over server.conf's 9310
    expect(config.host).toBe('127.0.0.2'); // env over file
    expect(config.logLevel).toBe('error'); // flag over env
    expect(config.data).toBe(join(tmp.dir, 'elsewhere'));
    expect(config.tokenExpiresMinutes).toBe(120); // from server.conf
    expect(Object.keys(config.users).sort()).toEqual(['admin', 'demo', 'other']);
  });

  it('merges users per name and keeps whole permission lists', async () => {
    await writeFile(
      join(tmp.dir, 'users.json'),
      JSON.stringify({
        users: { ci: 'scrypt$16384$8$1$c2FsdA$aGFzaA' },
        permissions: { write: [{ pattern: 'tools/*', users: ['ci'] }] },
      }),
    );
    const config = await loadConfig({
      env: {},
      cwd: tmp.dir,
      conanServerConf: SERVER_CONF,
      configFile: 'users.json',
      onWarning: () => {},
    });
    expect(Object.keys(config.users).sort()).toEqual(['admin', 'ci', 'demo', 'other']);
    expect(config.permissions.write).toEqual([{ pattern: 'tools/*', users: ['ci'] }]);
    expect(config.permissions.read).toEqual([
      { pattern: 'secret/*@*/*', users: ['demo'] },
      { pattern: '*/*@*/*', users: ['*'] },
    ]);
    expect(await verifyPasswordFor(config, 'demo', 'demo')).toBe(true);
  });

  it('reports every problem with its source', async () => {
    const error = await loadConfig({
      env: { CIMMERIA_TOKEN_SECRET: 'short', CIMMERIA_TOKEN_EXPIRES_MINUTES: '0' },
      flags: { port: '-1' },
      cwd: tmp.dir,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const lines = (error as Error).message.split('\n');
    expect(lines).toContain('Invalid configuration: port: expected an integer between 0 and 65535 (from --port)');
    expect(lines).toContain(
      'Invalid configuration: tokenSecret: expected a string of at least 16 characters (from CIMMERIA_TOKEN_SECRET)',
    );
    expect(lines).toContain(
      'Invalid configuration: tokenExpiresMinutes: expected a number of minutes above 0 and at most 525600, fractions allowed (such as 0.5) (from CIMMERIA_TOKEN_EXPIRES_MINUTES)',
    );
  });

  it('refuses plaintext passwords among static users', async () => {
    await writeFile(join(tmp.dir, 'u.yaml'), 'users:\n  ci: hunter2\n');
    await expect(loadConfig({ env: {}, cwd: tmp.dir, configFile: 'u.yaml' })).rejects.toThrow(
      /users\.ci: expected a scrypt hash .*not a plaintext password \(from config file/,
    );
  });

  it('warns about unknown CIMMERIA_ variables', async () => {
    const warnings: string[] = [];
    await loadConfig({ env: { CIMMERIA_PROT: '1' }, cwd: tmp.dir, onWarning: (w) => warnings.push(w) });
    expect(warnings.join('\n')).toContain('CIMMERIA_PROT is not a Cimmeria setting');
  });
});

describe('issue 9: settings conan_server users need', () => {
  it('issue 9 item 3: takes a fractional tokenExpiresMinutes, as conan_server takes jwt_expire_minutes', async () => {
    expect((await loadConfig({ env: { CIMMERIA_TOKEN_EXPIRES_MINUTES: '0.5' }, cwd: tmp.dir })).tokenExpiresMinutes).toBe(0.5);
    await writeFile(join(tmp.dir, 't.yaml'), 'tokenExpiresMinutes: 0.02\n');
    expect((await loadConfig({ env: {}, cwd: tmp.dir, configFile: 't.yaml' })).tokenExpiresMinutes).toBe(0.02);
    for (const bad of ['-1', 'soon', '1e400']) {
      await expect(loadConfig({ env: { CIMMERIA_TOKEN_EXPIRES_MINUTES: bad }, cwd: tmp.dir })).rejects.toThrow(
        /tokenExpiresMinutes: expected a number of minutes above 0/,
      );
    }
  });

  it.each([
    ['ci:bot', "contains ':', where HTTP Basic authentication splits user from password: it could never log in"],
    ['*', "is '*', which means anyone in permission rules"],
    [' ci', 'starts or ends with a blank, which permission rules and server.conf drop: no rule could name it'],
    ['x'.repeat(65), 'is longer than 64 characters'],
  ])('issue 9 item 3: names the static user %j a client could not use, and why', async (name, why) => {
    await writeFile(join(tmp.dir, 'u.json'), JSON.stringify({ users: { [name]: 'scrypt$16384$8$1$c2FsdA$aGFzaA', ok: 'scrypt$16384$8$1$c2FsdA$aGFzaA' } }));
    const error = await loadConfig({ env: {}, cwd: tmp.dir, configFile: 'u.json' }).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      `Invalid configuration: users.${name}: user name '${name}' ${why} (from config file ${join(tmp.dir, 'u.json')})`,
    );
  });

  it("issue 9 item 3: takes user names conan_server takes, such as 'super admin' or 'ci@acme.org'", async () => {
    await writeFile(
      join(tmp.dir, 'u.yaml'),
      'users:\n  super admin: scrypt$16384$8$1$c2FsdA$aGFzaA\n  ci@acme.org: scrypt$16384$8$1$c2FsdA$aGFzaA\n' +
        'permissions:\n  write:\n    - { pattern: "*/*@*/*", users: "super admin, ci@acme.org" }\n',
    );
    const config = await loadConfig({ env: {}, cwd: tmp.dir, configFile: 'u.yaml' });
    expect(Object.keys(config.users)).toEqual(['super admin', 'ci@acme.org']);
    expect(config.permissions.write).toEqual([{ pattern: '*/*@*/*', users: ['super admin', 'ci@acme.org'] }]);
  });

  it('issue 9 item 4: ignoreConanServerPlugins in a config file lets a conf with a plugin load, with a warning', async () => {
    const conf = join(tmp.dir, 'server.conf');
    await writeFile(conf, '[server]\ncustom_authorizer: my_rules\n[users]\ndemo: demo\n');
    await expect(loadConfig({ env: {}, cwd: tmp.dir, conanServerConf: conf })).rejects.toThrow(ConfigError);
    await writeFile(join(tmp.dir, 'c.yaml'), 'ignoreConanServerPlugins: true\n');
    const warnings: string[] = [];
    const config = await loadConfig({ env: {}, cwd: tmp.dir, conanServerConf: conf, configFile: 'c.yaml', onWarning: (w) => warnings.push(w) });
    expect(config.ignoreConanServerPlugins).toBe(true);
    expect(warnings.join('\n')).toContain(`${conf} [server] custom_authorizer = my_rules is ignored`);
  });

  it('issue 9 item 5: checksumDeploy: false from the environment or a config file stops advertising checksum_deploy', async () => {
    const capabilities = async (options: Parameters<typeof startServe>[1], extra: string[] = []) => {
      const serve = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', join(tmp.dir, 'data'), '--log-level', 'silent', ...extra], options);
      try {
        return (await fetch(`${serve.url}/v2/ping`)).headers.get('x-conan-server-capabilities');
      } finally {
        expect(await serve.stop()).toBe(0);
      }
    };
    expect(await capabilities({})).toBe('revisions,checksum_deploy');
    expect(await capabilities({ env: { CIMMERIA_CHECKSUM_DEPLOY: 'false' } })).toBe('revisions');
    const file = join(tmp.dir, 'c.yaml');
    await writeFile(file, 'checksumDeploy: false\n');
    expect(await capabilities({}, ['--config', file])).toBe('revisions');

    await expect(loadConfig({ env: { CIMMERIA_CHECKSUM_DEPLOY: 'maybe' }, cwd: tmp.dir })).rejects.toThrow(
      'Invalid configuration: checksumDeploy: expected true or false (from CIMMERIA_CHECKSUM_DEPLOY)',
    );
  });
});

describe('defaults shared with the core', () => {
  it('are the core’s own, read from @cimmeria/core/defaults, which loads no other part of the core', async () => {
    const core = await import('@cimmeria/core');
    const config = await loadConfig({ env: {} });
    expect(config.maxUploadBytes).toBe(core.DEFAULT_MAX_UPLOAD_BYTES);
    expect(config.maxTextFileBytes).toBe(core.DEFAULT_MAX_TEXT_FILE_BYTES);
    expect(config).toMatchObject(core.LOGIN_PROTECTION_DEFAULTS);
    // The primary of --workers N reads the configuration and never serves: the defaults module imports nothing.
    const { execFileSync } = await import('node:child_process');
    const loaded = execFileSync(
      process.execPath,
      ['-e', "require('@cimmeria/core/defaults'); console.log(JSON.stringify(Object.keys(require.cache)))"],
      { cwd: new URL('..', import.meta.url).pathname, encoding: 'utf8' },
    );
    const files: string[] = JSON.parse(loaded);
    // The entry and the chunk holding the constants: not the core's index, no dependency.
    expect(files.length).toBeLessThanOrEqual(2);
    for (const file of files) expect(file).toMatch(/packages\/core\/dist\/(defaults|chunk-[^/]+)\.cjs$/);
  });

  it('include workers: the number of cores, or CIMMERIA_WORKERS', async () => {
    const { availableParallelism } = await import('node:os');
    expect((await loadConfig({ env: {} })).workers).toBe(availableParallelism());
    expect((await loadConfig({ env: { CIMMERIA_WORKERS: '3' } })).workers).toBe(3);
    await expect(loadConfig({ env: { CIMMERIA_WORKERS: '0' } })).rejects.toThrow(ConfigError);
  });
});
