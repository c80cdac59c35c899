import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULTS, loadConfig } from './support/api.js';

// Issue 8, items 2 and 3: the settings of login throttling, password checks and token revocation.

describe('items 2 and 3 of issue 8: login and revocation settings', () => {
  it('items 2, 3: have defaults, and are read from CIMMERIA_* variables', async () => {
    const defaults = await loadConfig({ env: {} });
    expect(defaults).toMatchObject({
      maxConcurrentPasswordChecks: 2,
      passwordCheckQueueSize: 16,
      loginFailuresPerUser: 10,
      loginFailuresPerAddress: 30,
      loginThrottleWindowSeconds: 60,
      credentialCacheSeconds: 5,
      trustProxy: 0,
    });
    expect(DEFAULTS.credentialCacheSeconds).toBe(5);
    const set = await loadConfig({
      env: {
        CIMMERIA_MAX_CONCURRENT_PASSWORD_CHECKS: '1',
        CIMMERIA_PASSWORD_CHECK_QUEUE_SIZE: '0',
        CIMMERIA_LOGIN_FAILURES_PER_USER: '0',
        CIMMERIA_LOGIN_FAILURES_PER_ADDRESS: '100',
        CIMMERIA_LOGIN_THROTTLE_WINDOW_SECONDS: '15',
        CIMMERIA_CREDENTIAL_CACHE_SECONDS: '0',
        CIMMERIA_TRUST_PROXY: '1',
      },
    });
    expect(set).toMatchObject({
      maxConcurrentPasswordChecks: 1,
      passwordCheckQueueSize: 0,
      loginFailuresPerUser: 0,
      loginFailuresPerAddress: 100,
      loginThrottleWindowSeconds: 15,
      credentialCacheSeconds: 0,
      trustProxy: 1,
    });
  });

  it('items 2, 3: refuse values that would turn the protection into a hazard, naming the variable', async () => {
    for (const [name, value, message] of [
      ['CIMMERIA_MAX_CONCURRENT_PASSWORD_CHECKS', '0', 'maxConcurrentPasswordChecks: expected an integer between 1 and 64'],
      ['CIMMERIA_LOGIN_THROTTLE_WINDOW_SECONDS', '0', 'loginThrottleWindowSeconds: expected an integer between 1 and 86400'],
      ['CIMMERIA_CREDENTIAL_CACHE_SECONDS', '3600', 'credentialCacheSeconds: expected an integer between 0 and 300'],
      ['CIMMERIA_TRUST_PROXY', 'yes', 'trustProxy: expected an integer between 0 and 16'],
    ] as const) {
      const error = await loadConfig({ env: { [name]: value } }).catch((e: unknown) => e);
      expect(error, name).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain(`${message} (from ${name})`);
    }
  });
});
