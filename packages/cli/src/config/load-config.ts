import { extname, resolve } from 'node:path';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { readConanServerConf } from './conan-server-conf.js';
import { readConfigText, type ConanServerPlugin, type ConfigLayer, type RawConfig } from './layer.js';
import { configSchema, type CimmeriaConfig } from './schema.js';

/** Environment variables read by {@link loadConfig}, and the key each sets. */
export const ENV_VARS: Record<string, string> = {
  CIMMERIA_PORT: 'port',
  CIMMERIA_HOST: 'host',
  CIMMERIA_DATA: 'data',
  CIMMERIA_TOKEN_SECRET: 'tokenSecret',
  CIMMERIA_TOKEN_EXPIRES_MINUTES: 'tokenExpiresMinutes',
  CIMMERIA_MAX_UPLOAD_BYTES: 'maxUploadBytes',
  CIMMERIA_MAX_TEXT_FILE_BYTES: 'maxTextFileBytes',
  CIMMERIA_REUPLOAD_MAKES_LATEST: 'reuploadMakesLatest',
  CIMMERIA_AUDIT_RETENTION_DAYS: 'auditRetentionDays',
  CIMMERIA_LOG_LEVEL: 'logLevel',
  CIMMERIA_DATABASE: 'database',
  CIMMERIA_DATABASE_POOL_SIZE: 'databasePoolSize',
  CIMMERIA_DATABASE_TIMEOUT_MS: 'databaseTimeoutMs',
  CIMMERIA_DATABASE_QUERY_TIMEOUT_MS: 'databaseQueryTimeoutMs',
  CIMMERIA_DATABASE_PREPARED_STATEMENTS: 'databasePreparedStatements',
  CIMMERIA_DATABASE_SCHEMA: 'databaseSchema',
  CIMMERIA_STORAGE: 'storage',
  CIMMERIA_STORAGE_PART_SIZE: 'storagePartSizeBytes',
  CIMMERIA_STORAGE_QUEUE_SIZE: 'storageQueueSize',
  CIMMERIA_STORAGE_TIMEOUT_MS: 'storageTimeoutMs',
  CIMMERIA_STORAGE_IDLE_TIMEOUT_MS: 'storageIdleTimeoutMs',
  CIMMERIA_DOWNLOADS: 'downloads',
  CIMMERIA_PRESIGN_EXPIRES_SECONDS: 'presignExpiresSeconds',
  CIMMERIA_PREVIOUS_TOKEN_SECRETS: 'previousTokenSecrets',
  CIMMERIA_HEALTH_PATH: 'healthPath',
  CIMMERIA_READY_PATH: 'readyPath',
  CIMMERIA_DRAIN_DELAY_MS: 'drainDelayMs',
  CIMMERIA_SHUTDOWN_TIMEOUT_MS: 'shutdownTimeoutMs',
  CIMMERIA_HEADERS_TIMEOUT_MS: 'headersTimeoutMs',
  CIMMERIA_CONNECTION_IDLE_TIMEOUT_MS: 'connectionIdleTimeoutMs',
  CIMMERIA_KEEP_ALIVE_TIMEOUT_MS: 'keepAliveTimeoutMs',
  CIMMERIA_MAX_CONNECTIONS: 'maxConnections',
  CIMMERIA_WORKERS: 'workers',
  CIMMERIA_CHECKSUM_DEPLOY: 'checksumDeploy',
  CIMMERIA_CONAN1_V1_MODE: 'conan1V1Mode',
  CIMMERIA_CONAN1_PUBLIC_URL: 'conan1PublicUrl',
  CIMMERIA_IGNORE_CONAN_SERVER_PLUGINS: 'ignoreConanServerPlugins',
  CIMMERIA_MAX_CONCURRENT_PASSWORD_CHECKS: 'maxConcurrentPasswordChecks',
  CIMMERIA_PASSWORD_CHECK_QUEUE_SIZE: 'passwordCheckQueueSize',
  CIMMERIA_LOGIN_FAILURES_PER_USER: 'loginFailuresPerUser',
  CIMMERIA_LOGIN_FAILURES_PER_ADDRESS: 'loginFailuresPerAddress',
  CIMMERIA_LOGIN_THROTTLE_WINDOW_SECONDS: 'loginThrottleWindowSeconds',
  CIMMERIA_CREDENTIAL_CACHE_SECONDS: 'credentialCacheSeconds',
  CIMMERIA_TRUST_PROXY: 'trustProxy',
  CIMMERIA_METRICS: 'metrics',
  CIMMERIA_METRICS_PATH: 'metricsPath',
  CIMMERIA_METRICS_TOKEN: 'metricsToken',
  CIMMERIA_UI: 'ui',
  CIMMERIA_LDAP_URL: 'ldap.url',
  CIMMERIA_LDAP_BIND_DN: 'ldap.bindDn',
  CIMMERIA_LDAP_BIND_PASSWORD: 'ldap.bindPassword',
  CIMMERIA_LDAP_SEARCH_BASE: 'ldap.searchBase',
  CIMMERIA_LDAP_SEARCH_FILTER: 'ldap.searchFilter',
  CIMMERIA_LDAP_START_TLS: 'ldap.startTls',
  CIMMERIA_LDAP_TLS_CA_FILE: 'ldap.tlsCaFile',
  CIMMERIA_LDAP_TLS_REJECT_UNAUTHORIZED: 'ldap.tlsRejectUnauthorized',
  CIMMERIA_LDAP_TIMEOUT_MS: 'ldap.timeoutMs',
};

/** Settings merged key by key across sources rather than replaced whole. */
const MERGED_MAPS = new Set(['users', 'permissions', 'ldap']);

/** Names the config file when `--config` is not given. */
export const CONFIG_ENV_VAR = 'CIMMERIA_CONFIG';

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Values from command-line flags, by configuration key (`port`, `logLevel`...). They win over everything. */
  flags?: Record<string, unknown>;
  /** Environment to read `CIMMERIA_*` from. Default: `process.env`. */
  env?: Record<string, string | undefined>;
  /** A JSON (`.json`) or YAML (`.yaml`, `.yml`) config file. Default: `$CIMMERIA_CONFIG`. */
  configFile?: string;
  /** A conan_server `server.conf` to take users, permissions, port and token settings from. */
  conanServerConf?: string;
  /** Directory relative paths are resolved against. Default: `process.cwd()`. */
  cwd?: string;
  /** Receives notes that are not errors (ignored variables, weak secrets). Default: printed to stderr. */
  onWarning?: (message: string) => void;
}

const FLAG_NAMES: Record<string, string> = {
  port: '--port',
  host: '--host',
  data: '--data',
  logLevel: '--log-level',
  maxUploadBytes: '--max-upload-bytes',
  database: '--database',
  storage: '--storage',
};

/** Labels every value of `values` (down to each user and each permission list) with `label`. */
function labelled(values: RawConfig, label: (key: string) => string): ConfigLayer {
  const sources: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    sources[key] = label(key);
    if (MERGED_MAPS.has(key) && value && typeof value === 'object' && !Array.isArray(value)) {
      for (const inner of Object.keys(value)) sources[`${key}.${inner}`] = label(key);
    }
  }
  return { values, sources };
}

function envLayer(env: Record<string, string | undefined>, warn: (message: string) => void): ConfigLayer {
  const values: RawConfig = {};
  const names: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('CIMMERIA_') || value === undefined || value === '') continue;
    const key = ENV_VARS[name];
    if (key) {
      // `ldap.url`: one key of an object setting.
      const [outer, inner] = key.split('.', 2) as [string, string | undefined];
      if (inner === undefined) values[outer] = value;
      else values[outer] = { ...(isMap(values[outer]) ? values[outer] : {}), [inner]: value };
      names[key] = name;
    } else if (name !== CONFIG_ENV_VAR) {
      // A typo (CIMMERIA_PROT) would otherwise be silently ignored.
      warn(`${name} is not a Cimmeria setting and is ignored (known: ${[...Object.keys(ENV_VARS), CONFIG_ENV_VAR].join(', ')})`);
    }
  }
  const layer = labelled(values, (key) => names[key] ?? 'the environment');
  // Each key of an object setting names its own variable.
  for (const [key, name] of Object.entries(names)) layer.sources[key] = name;
  return layer;
}

/** Reads a JSON or YAML config file into raw values. */
export async function readConfigFile(file: string): Promise<RawConfig> {
  const extension = extname(file).toLowerCase();
  if (!['.json', '.yaml', '.yml'].includes(extension)) {
    throw new ConfigError(`Config file ${file}: expected a .json, .yaml or .yml file`);
  }
  const text = await readConfigText(file, 'the config file');
  let parsed: unknown;
  try {
    parsed = extension === '.json' ? JSON.parse(text) : (await import('yaml')).parse(text);
  } catch (error) {
    throw new ConfigError(`Config file ${file} is not valid ${extension === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`Config file ${file}: expected a mapping of settings at the top level`);
  }
  return parsed as RawConfig;
}

const isMap = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Merges layers, later ones winning. Whole values are replaced, except
 * `users` (merged per user) and `permissions` (its `read` and `write` lists
 * replaced independently: rule order matters, so lists are never spliced).
 */
export function mergeLayers(layers: ConfigLayer[]): ConfigLayer {
  const values: RawConfig = {};
  const sources: Record<string, string> = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer.values)) {
      if (MERGED_MAPS.has(key) && isMap(value) && isMap(values[key])) {
        values[key] = { ...values[key], ...value };
      } else {
        // Replacing a value drops the sources of what it replaced.
        for (const path of Object.keys(sources)) if (path.startsWith(`${key}.`)) delete sources[path];
        values[key] = value;
      }
      for (const [path, source] of Object.entries(layer.sources)) {
        if (path === key || path.startsWith(`${key}.`)) sources[path] = source;
      }
    }
  }
  return {
    values,
    sources,
    warnings: layers.flatMap((l) => l.warnings ?? []),
    conanServerPlugins: layers.flatMap((l) => l.conanServerPlugins ?? []),
  };
}

function sourceOf(path: PropertyKey[], sources: Record<string, string>): string | undefined {
  for (let length = path.length; length > 0; length--) {
    const source = sources[path.slice(0, length).map(String).join('.')];
    if (source) return source;
  }
  return undefined;
}

function showPath(path: PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

/** One line per problem: `Invalid configuration: KEY: WHAT IS EXPECTED (from SOURCE)`. */
export function formatConfigIssues(issues: z.core.$ZodIssue[], sources: Record<string, string>): string {
  const lines: string[] = [];
  for (const issue of issues) {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k]) : [issue.path];
    for (const path of keys) {
      const message = issue.code === 'unrecognized_keys' ? 'unknown setting' : issue.message;
      const source = sourceOf(path, sources);
      lines.push(`Invalid configuration: ${showPath(path) || '(top level)'}: ${message}${source ? ` (from ${source})` : ''}`);
    }
  }
  return lines.join('\n');
}

/**
 * Builds the configuration from every source, in increasing precedence:
 * defaults, a conan_server `server.conf`, the config file, `CIMMERIA_*`
 * environment variables, command-line flags. Validates the merged result
 * with one schema; throws a {@link ConfigError} naming each wrong key, what
 * is expected and where the value came from. `data` comes back absolute.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<CimmeriaConfig> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const warn = options.onWarning ?? ((message: string) => process.stderr.write(`warning: ${message}\n`));
  const layers: ConfigLayer[] = [];
  if (options.conanServerConf) layers.push(await readConanServerConf(resolve(cwd, options.conanServerConf)));
  const configFile = options.configFile ?? (env[CONFIG_ENV_VAR] || undefined);
  if (configFile) {
    const file = resolve(cwd, configFile);
    layers.push(labelled(await readConfigFile(file), () => `config file ${file}`));
  }
  layers.push(envLayer(env, warn));
  const flags = Object.fromEntries(Object.entries(options.flags ?? {}).filter(([, v]) => v !== undefined));
  layers.push(labelled(flags, (key) => FLAG_NAMES[key] ?? `option ${key}`));

  const merged = mergeLayers(layers);
  for (const warning of merged.warnings ?? []) warn(warning);
  const result = configSchema.safeParse(merged.values);
  if (!result.success) throw new ConfigError(formatConfigIssues(result.error.issues, merged.sources));
  checkConanServerPlugins(merged.conanServerPlugins ?? [], result.data.ignoreConanServerPlugins, warn);
  const data = resolve(cwd, result.data.data);
  return {
    ...result.data,
    data,
    database: resolveLocalUrl('sqlite:', result.data.database, cwd),
    storage: resolveLocalUrl('fs:', result.data.storage, cwd),
  };
}

const PLUGIN_STAND_IN: Record<ConanServerPlugin['key'], { who: string; decides: string; instead: string }> = {
  custom_authenticator: {
    who: "the conf's [users]",
    decides: 'who logs in',
    instead: 'embed Cimmeria and pass your own Authenticator (createRegistry({ authenticator }))',
  },
  custom_authorizer: {
    who: "the conf's [read_permissions] and [write_permissions]",
    decides: 'who may read and write',
    instead: 'embed Cimmeria and pass your own Authorizer (createRegistry({ authorizer }))',
  },
};

/**
 * conan_server plugins cannot run here, and starting without them could let
 * more people in than the plugin did: refuse, unless the operator said to go on.
 */
function checkConanServerPlugins(plugins: ConanServerPlugin[], ignore: boolean, warn: (message: string) => void): void {
  const named = (p: ConanServerPlugin) => `${p.source} ${p.key} = ${p.value}`;
  if (ignore) {
    for (const p of plugins) {
      const { who, decides } = PLUGIN_STAND_IN[p.key];
      warn(`${named(p)} is ignored (ignoreConanServerPlugins): ${who} decide ${decides} instead`);
    }
    return;
  }
  if (plugins.length === 0) return;
  throw new ConfigError(
    plugins
      .map((p) => {
        const { who, decides, instead } = PLUGIN_STAND_IN[p.key];
        return (
          `${named(p)}: conan_server plugins do not run in Cimmeria, and without it ${who} would decide ${decides}. ` +
          `To keep its checks, ${instead}; to start without it, set ignoreConanServerPlugins: true ` +
          '(CIMMERIA_IGNORE_CONAN_SERVER_PLUGINS=true).'
        );
      })
      .join('\n'),
  );
}

/** `sqlite:` and `fs:` paths come back absolute, so a later chdir cannot move them. */
function resolveLocalUrl(scheme: string, url: string | undefined, cwd: string): string | undefined {
  if (url === undefined || !url.startsWith(scheme)) return url;
  return `${scheme}${resolve(cwd, url.slice(scheme.length))}`;
}
