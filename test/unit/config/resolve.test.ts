import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_CACHE_DIR,
  DEFAULT_EXPIRING_THRESHOLD_MS,
  DEFAULT_METADATA_ENDPOINT,
  DEFAULT_TIMEOUT_MS,
  resolveConfig,
  type FlagValues,
} from '../../../src/config/resolve.ts';
import type { ConfigFile } from '../../../src/config/schema.ts';
import { ProviderError } from '../../../src/errors.ts';

function configError(fn: () => unknown, want: RegExp): ProviderError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ProviderError, `expected a ProviderError, got ${String(caught)}`);
  assert.equal(caught.errorClass, 'config');
  assert.equal(caught.retryable, false);
  assert.match(caught.message, want);
  assert.doesNotMatch(caught.message, /\n/);
  return caught;
}

const FILE: ConfigFile = {
  cacheDir: '/file/cache',
  expiringThreshold: '10m',
  timeout: '20s',
  logLevel: 'info',
  metadata: { endpoint: 'http://file-imds:81/', roleName: 'file-role', disableIMDSv1: false },
  cr: { network: 'vpc', endpoint: 'http://file-cr.{region}.test' },
  registries: [{ domains: ['reg.example.com'], instanceId: 'cri-1' }],
};

describe('resolveConfig: defaults', () => {
  it('uses the documented defaults for an empty file, no flags, empty env', () => {
    const c = resolveConfig({}, {}, {});
    assert.deepEqual(c, {
      cacheDir: DEFAULT_CACHE_DIR,
      expiringThresholdMs: DEFAULT_EXPIRING_THRESHOLD_MS,
      timeoutMs: DEFAULT_TIMEOUT_MS,
      logLevel: 'warn',
      logFormat: 'text',
      metadata: { endpoint: DEFAULT_METADATA_ENDPOINT, roleName: undefined, disableIMDSv1: false },
      cr: { network: 'public', endpointMap: {} },
      registries: [],
      credentials: { source: 'auto' },
      sts: { network: 'public' },
      serviceAccount: { audience: 'sts.aliyuncs.com', roleAnnotation: 'pod-identity.alibabacloud.com/role-name', durationSeconds: 3600 },
      prewarm: { enabled: true, servedWithinMs: 24 * 3600_000 },
    });
    assert.equal(DEFAULT_METADATA_ENDPOINT, 'http://100.100.100.200');
    assert.equal(DEFAULT_EXPIRING_THRESHOLD_MS, 15 * 60_000);
  });
});

describe('resolveConfig: prewarm', () => {
  it('is off with enabled: false, and keeps registries served within servedWithin', () => {
    assert.deepEqual(resolveConfig({ prewarm: { enabled: false, servedWithin: '6h' } }, {}, {}).prewarm, { enabled: false, servedWithinMs: 6 * 3600_000 });
  });
});

describe('resolveConfig: the file over defaults', () => {
  it('takes every value from the file', () => {
    const c = resolveConfig(FILE, { config: '/etc/x.yaml' }, {});
    assert.equal(c.configFile, '/etc/x.yaml');
    assert.equal(c.cacheDir, '/file/cache');
    assert.equal(c.expiringThresholdMs, 10 * 60_000);
    assert.equal(c.timeoutMs, 20_000);
    assert.equal(c.logLevel, 'info');
    assert.equal(c.metadata.endpoint, 'http://file-imds:81', 'trailing slash trimmed');
    assert.equal(c.metadata.roleName, 'file-role');
    assert.equal(c.metadata.disableIMDSv1, false);
    assert.equal(c.cr.network, 'vpc');
    assert.equal(c.cr.endpointTemplate, 'http://file-cr.{region}.test');
    assert.deepEqual(c.cr.endpointMap, {});
    assert.deepEqual(c.registries, FILE.registries);
  });

  it('takes a region map endpoint from the file', () => {
    const c = resolveConfig({ cr: { endpoint: { 'cn-hangzhou': 'http://a', 'cn-beijing': 'http://b' } } }, {}, {});
    assert.deepEqual(c.cr.endpointMap, { 'cn-hangzhou': 'http://a', 'cn-beijing': 'http://b' });
    assert.equal(c.cr.endpointTemplate, undefined);
  });
});

describe('resolveConfig: flags override the file', () => {
  const flags: FlagValues = {
    cacheDir: '/flag/cache',
    expiringThreshold: '5m',
    timeout: '7s',
    logLevel: 'debug',
    metadataEndpoint: 'http://flag-imds',
    network: 'public',
    crEndpoint: ['http://flag-cr.{region}.test'],
  };
  const c = resolveConfig(FILE, flags, { ALIBABA_CLOUD_IMDS_ENDPOINT: 'http://env-imds' });
  const rows: Array<[string, unknown, unknown]> = [
    ['cacheDir', c.cacheDir, '/flag/cache'],
    ['expiringThreshold', c.expiringThresholdMs, 5 * 60_000],
    ['timeout', c.timeoutMs, 7000],
    ['logLevel', c.logLevel, 'debug'],
    ['metadata endpoint (flag beats env and file)', c.metadata.endpoint, 'http://flag-imds'],
    ['network', c.cr.network, 'public'],
    ['cr endpoint template', c.cr.endpointTemplate, 'http://flag-cr.{region}.test'],
  ];
  for (const [name, got, want] of rows) {
    it(name, () => assert.equal(got, want));
  }
});

describe('resolveConfig: environment', () => {
  const rows: Array<[string, NodeJS.ProcessEnv, string]> = [
    ['with scheme', { ALIBABA_CLOUD_IMDS_ENDPOINT: 'http://10.0.0.1:8080' }, 'http://10.0.0.1:8080'],
    ['without scheme (bare host, as Alibaba tools accept)', { ALIBABA_CLOUD_IMDS_ENDPOINT: '10.0.0.1' }, 'http://10.0.0.1'],
    ['bare host:port', { ALIBABA_CLOUD_IMDS_ENDPOINT: 'imds.local:8080' }, 'http://imds.local:8080'],
    ['https with trailing slash', { ALIBABA_CLOUD_IMDS_ENDPOINT: 'https://imds.local/' }, 'https://imds.local'],
    ['surrounded by spaces', { ALIBABA_CLOUD_IMDS_ENDPOINT: '  10.0.0.2  ' }, 'http://10.0.0.2'],
    ['empty falls back to the file', { ALIBABA_CLOUD_IMDS_ENDPOINT: '  ' }, 'http://file-imds:81'],
  ];
  for (const [name, env, want] of rows) {
    it(`ALIBABA_CLOUD_IMDS_ENDPOINT ${name} beats the file`, () => {
      assert.equal(resolveConfig(FILE, {}, env).metadata.endpoint, want);
    });
  }

  it('ALIBABA_CLOUD_IMDS_ENDPOINT with a non-http scheme is a config error', () => {
    configError(() => resolveConfig({}, {}, { ALIBABA_CLOUD_IMDS_ENDPOINT: 'ftp://10.0.0.1' }), /^ALIBABA_CLOUD_IMDS_ENDPOINT: expected/);
  });

  it('ALIBABA_CLOUD_ECS_METADATA beats metadata.roleName; empty falls back', () => {
    assert.equal(resolveConfig(FILE, {}, { ALIBABA_CLOUD_ECS_METADATA: 'env-role' }).metadata.roleName, 'env-role');
    assert.equal(resolveConfig(FILE, {}, { ALIBABA_CLOUD_ECS_METADATA: ' ' }).metadata.roleName, 'file-role');
    assert.equal(resolveConfig({}, {}, { ALIBABA_CLOUD_ECS_METADATA: 'env-role' }).metadata.roleName, 'env-role');
    assert.equal(resolveConfig({}, {}, {}).metadata.roleName, undefined);
  });

  const imdsv1: Array<[string | undefined, boolean | undefined, boolean]> = [
    ['true', undefined, true],
    ['TRUE', false, true],
    ['True', undefined, true],
    ['false', undefined, false],
    ['1', undefined, false],
    [undefined, true, true],
    [undefined, false, false],
    [undefined, undefined, false],
    // Disabling v1 is a hardening switch: either source turns it on.
    ['false', true, true],
  ];
  for (const [envValue, fileValue, want] of imdsv1) {
    it(`disableIMDSv1: env=${String(envValue)} file=${String(fileValue)} -> ${want}`, () => {
      const file: ConfigFile = fileValue === undefined ? {} : { metadata: { disableIMDSv1: fileValue } };
      const env: NodeJS.ProcessEnv = envValue === undefined ? {} : { ALIBABA_CLOUD_IMDSV1_DISABLED: envValue };
      assert.equal(resolveConfig(file, {}, env).metadata.disableIMDSv1, want);
    });
  }
});

describe('resolveConfig: --cr-endpoint', () => {
  it('a plain URL is a template; region=URL entries fill the map; repeatable', () => {
    const c = resolveConfig({}, { crEndpoint: ['http://cr.{region}.test', 'cn-hangzhou=http://127.0.0.1:9001', 'cn-shanghai-finance-1=https://fin.test:8443'] }, {});
    assert.equal(c.cr.endpointTemplate, 'http://cr.{region}.test');
    assert.deepEqual(c.cr.endpointMap, { 'cn-hangzhou': 'http://127.0.0.1:9001', 'cn-shanghai-finance-1': 'https://fin.test:8443' });
  });

  it('flag entries are merged over the file map, and the last template wins', () => {
    const file: ConfigFile = { cr: { endpoint: { 'cn-hangzhou': 'http://file-a', 'cn-beijing': 'http://file-b' } } };
    const c = resolveConfig(file, { crEndpoint: ['cn-hangzhou=http://flag-a', 'http://t1.{region}', 'http://t2.{region}'] }, {});
    assert.deepEqual(c.cr.endpointMap, { 'cn-hangzhou': 'http://flag-a', 'cn-beijing': 'http://file-b' });
    assert.equal(c.cr.endpointTemplate, 'http://t2.{region}');
  });

  it('a flag template replaces the file template', () => {
    const c = resolveConfig(FILE, { crEndpoint: ['http://flag.{region}'] }, {});
    assert.equal(c.cr.endpointTemplate, 'http://flag.{region}');
  });

  const bad = ['cr.example.com', 'cn-hangzhou=ftp://x', 'cn-hangzhou=', 'ftp://{region}.x', ''];
  for (const value of bad) {
    it(`rejects ${JSON.stringify(value)} naming the flag and the value`, () => {
      const error = configError(() => resolveConfig({}, { crEndpoint: [value] }, {}), /^--cr-endpoint: /);
      assert.ok(error.message.includes(`"${value}"`));
    });
  }
});

describe('resolveConfig: flag validation', () => {
  const rows: Array<[string, FlagValues, RegExp]> = [
    ['a bad --timeout', { timeout: 'ten' }, /^--timeout: expected a duration.*"ten"/],
    ['a bad --expiring-threshold', { expiringThreshold: '15' }, /^--expiring-threshold: expected a duration.*"15"/],
    ['a bad --log-level', { logLevel: 'verbose' }, /^--log-level: expected one of error, warn, info, debug, got "verbose"/],
    ['a bad --network', { network: 'internal' }, /^--network: expected one of public, vpc/],
    ['a bad --metadata-endpoint', { metadataEndpoint: '100.100.100.200' }, /^--metadata-endpoint: expected an http/],
  ];
  for (const [name, flags, want] of rows) {
    it(`rejects ${name}`, () => {
      configError(() => resolveConfig({}, flags, {}), want);
    });
  }
});

describe('resolveConfig: ranges', () => {
  const timeouts: Array<[string, number | null]> = [
    ['1s', 1000],
    ['999ms', null],
    ['0', null],
    ['-5s', null],
    ['30s', 30_000],
    ['55s', 55_000],
    ['55001ms', null],
    ['1m', null],
  ];
  for (const [value, want] of timeouts) {
    it(`timeout ${value} -> ${want === null ? 'rejected' : want}`, () => {
      for (const resolve of [() => resolveConfig({}, { timeout: value }, {}), () => resolveConfig({ timeout: value }, {}, {})]) {
        if (want === null) configError(resolve, /^timeout must be between 1s and 55s/);
        else assert.equal(resolve().timeoutMs, want);
      }
    });
  }

  const thresholds: Array<[string, number | null]> = [
    ['0s', 0],
    ['0', 0],
    ['-1s', null],
    ['15m', 15 * 60_000],
    ['50m', 50 * 60_000],
    ['50m1s', null],
    ['1h', null],
  ];
  for (const [value, want] of thresholds) {
    it(`expiringThreshold ${value} -> ${want === null ? 'rejected' : want}`, () => {
      for (const resolve of [() => resolveConfig({}, { expiringThreshold: value }, {}), () => resolveConfig({ expiringThreshold: value }, {}, {})]) {
        if (want === null) configError(resolve, /^expiringThreshold must be between 0s and 50m/);
        else assert.equal(resolve().expiringThresholdMs, want);
      }
    });
  }

  it('expiringThreshold stays within 50m whatever cr.tokenExpiresInHours says (Personal Edition tokens live 1h)', () => {
    assert.equal(resolveConfig({ cr: { tokenExpiresInHours: 24 } }, {}, {}).cr.tokenExpiresInHours, 24);
    configError(() => resolveConfig({ expiringThreshold: '2h', cr: { tokenExpiresInHours: 24 } }, {}, {}), /^expiringThreshold must be between 0s and 50m.*Personal Edition/);
  });

  it('a valid flag rescues an out-of-range file value', () => {
    assert.equal(resolveConfig({ timeout: '2m' }, { timeout: '10s' }, {}).timeoutMs, 10_000);
  });
});
