import { createHash } from 'node:crypto';
import type { PermissionRule } from '@cimmeria/core';
import { ConfigError } from '../errors.js';
import { IniSyntaxError, parseIni, type IniDocument, type IniEntry } from './ini.js';
import { readConfigText, type ConanServerPlugin, type ConfigLayer } from './layer.js';

/**
 * What Cimmeria takes from a conan_server `server.conf`. Passwords are still
 * plaintext here, as in the file.
 */
export interface ConanServerConf {
  port?: string;
  jwtSecret?: string;
  jwtExpireMinutes?: string;
  /** `[users]`: name -> plaintext password. */
  users?: Record<string, string>;
  /** `[read_permissions]` / `[write_permissions]`, in file order (the first matching rule decides). */
  read?: PermissionRule[];
  write?: PermissionRule[];
  /** `[server]` `custom_authenticator` / `custom_authorizer`: plugins Cimmeria cannot run. */
  customAuthenticator?: string;
  customAuthorizer?: string;
}

function rules(entries: IniEntry[]): PermissionRule[] {
  return entries.map(({ key, value }) => ({
    pattern: key,
    users: value
      .split(',')
      .map((u) => u.trim())
      .filter((u) => u !== ''),
  }));
}

/**
 * Extracts the settings Cimmeria understands from a parsed `server.conf`:
 * `[server]` `port`, `jwt_secret`, `jwt_expire_minutes` (minutes, fractions
 * allowed), `custom_authenticator` and `custom_authorizer` (to refuse them);
 * `[users]`; `[read_permissions]` and `[write_permissions]`. Other keys (storage paths,
 * SSL, updown secret) have no meaning here and are ignored. Empty values
 * count as unset, as conan_server treats them.
 */
export function conanServerConfFromIni(document: IniDocument): ConanServerConf {
  const conf: ConanServerConf = {};
  const server = new Map((document.get('server') ?? []).map((e) => [e.key, e.value]));
  const set = (key: 'port' | 'jwtSecret' | 'jwtExpireMinutes' | 'customAuthenticator' | 'customAuthorizer', name: string) => {
    const value = server.get(name);
    if (value !== undefined && value !== '') conf[key] = value;
  };
  set('port', 'port');
  set('jwtSecret', 'jwt_secret');
  set('jwtExpireMinutes', 'jwt_expire_minutes');
  set('customAuthenticator', 'custom_authenticator');
  set('customAuthorizer', 'custom_authorizer');
  const users = document.get('users');
  if (users) conf.users = Object.fromEntries(users.map((e) => [e.key, e.value]));
  const read = document.get('read_permissions');
  if (read) conf.read = rules(read);
  const write = document.get('write_permissions');
  if (write) conf.write = rules(write);
  return conf;
}

/**
 * Reads a conan_server `server.conf` and turns it into a configuration
 * layer: passwords hashed in memory (never written anywhere), permission
 * rules in file order.
 */
export async function readConanServerConf(file: string): Promise<ConfigLayer> {
  const text = await readConfigText(file, 'the conan_server conf');
  let conf: ConanServerConf;
  try {
    conf = conanServerConfFromIni(parseIni(text));
  } catch (error) {
    if (error instanceof IniSyntaxError) throw new ConfigError(`Invalid conan_server conf ${file}: ${error.message}`);
    throw error;
  }
  return conanServerConfLayer(conf, file);
}

/** Maps conan_server settings onto Cimmeria's configuration keys. */
export async function conanServerConfLayer(conf: ConanServerConf, file: string): Promise<ConfigLayer> {
  const layer: ConfigLayer = { values: {}, sources: {}, warnings: [] };
  const put = (key: string, value: unknown, where: string) => {
    layer.values[key] = value;
    layer.sources[key] = `${file} ${where}`;
  };
  if (conf.port !== undefined) put('port', conf.port, '[server] port');
  if (conf.jwtExpireMinutes !== undefined) put('tokenExpiresMinutes', conf.jwtExpireMinutes, '[server] jwt_expire_minutes');
  if (conf.jwtSecret !== undefined) {
    let secret = conf.jwtSecret;
    if (secret.length < 16) {
      // conan_server accepts any secret, Cimmeria's tokens need 16+ characters.
      // Stretching keeps it deterministic, so every node and restart agrees.
      secret = createHash('sha256').update(secret).digest('hex');
      layer.warnings!.push(`${file}: jwt_secret is shorter than 16 characters; using its SHA-256 instead. Prefer a long random secret.`);
    }
    put('tokenSecret', secret, '[server] jwt_secret');
  }
  if (conf.users) {
    const users: Record<string, string> = {};
    for (const [name, password] of Object.entries(conf.users)) {
      // A salt derived from the name, so every node and restart computes the same
      // hash: tokens are tied to it. The password is in server.conf in plain text anyway.
      const salt = createHash('sha256').update('cimmeria conan_server.conf user\0').update(name).digest().subarray(0, 16);
      // Loaded here: reading a configuration loads no part of the core otherwise.
      const { hashPassword } = await import('@cimmeria/core');
      users[name] = await hashPassword(password, { salt });
      layer.sources[`users.${name}`] = `${file} [users]`;
    }
    layer.values.users = users;
  }
  const permissions: Record<string, unknown> = {};
  if (conf.read) {
    permissions.read = conf.read;
    layer.sources['permissions.read'] = `${file} [read_permissions]`;
  }
  if (conf.write) {
    permissions.write = conf.write;
    layer.sources['permissions.write'] = `${file} [write_permissions]`;
  }
  if (conf.read || conf.write) layer.values.permissions = permissions;
  const plugins: ConanServerPlugin[] = [];
  const source = `${file} [server]`;
  if (conf.customAuthenticator !== undefined) plugins.push({ key: 'custom_authenticator', value: conf.customAuthenticator, source });
  if (conf.customAuthorizer !== undefined) plugins.push({ key: 'custom_authorizer', value: conf.customAuthorizer, source });
  if (plugins.length > 0) layer.conanServerPlugins = plugins;
  return layer;
}
