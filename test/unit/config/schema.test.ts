import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isGoDuration, isHttpUrl, validateConfigFile } from '../../../src/config/schema.ts';
import { FULL_CONFIG } from './fixtures.ts';

function problemOf(input: unknown): string {
  const result = validateConfigFile(input);
  assert.equal(result.ok, false, `expected ${JSON.stringify(input)} to be rejected`);
  return (result as { ok: false; problem: string }).problem;
}

describe('validateConfigFile: accepted documents', () => {
  it('accepts every documented key and returns them unchanged', () => {
    const result = validateConfigFile(FULL_CONFIG);
    assert.equal(result.ok, true);
    assert.deepEqual((result as { config: unknown }).config, FULL_CONFIG);
  });

  const rows: Array<[string, unknown]> = [
    ['an empty mapping', {}],
    ['null (an empty YAML file)', null],
    ['undefined', undefined],
    ['a {region} template endpoint', { cr: { endpoint: 'https://cr.{region}.example.com' } }],
    ['a registry with only domains', { registries: [{ domains: ['a.example.com'] }] }],
    ['an empty registries list', { registries: [] }],
    ['a zero duration', { expiringThreshold: '0' }],
    ['a compound duration', { timeout: '1m30s' }],
    ['metadata.allowV1OnTokenFailure', { metadata: { allowV1OnTokenFailure: true } }],
    ['cr.tokenExpiresInHours 1', { cr: { tokenExpiresInHours: 1 } }],
    ['cr.tokenExpiresInHours 24', { cr: { tokenExpiresInHours: 24 } }],
  ];
  for (const [name, input] of rows) {
    it(`accepts ${name}`, () => {
      assert.equal(validateConfigFile(input).ok, true);
    });
  }
  it('an empty document yields an empty config', () => {
    assert.deepEqual(validateConfigFile(null), { ok: true, config: {} });
  });
});

describe('validateConfigFile: unknown keys are named with their dotted path', () => {
  const rows: Array<[unknown, string]> = [
    [{ cachedir: '/x' }, 'cachedir'],
    [{ metadata: { roleNmae: 'x' } }, 'metadata.roleNmae'],
    [{ cr: { netwrok: 'vpc' } }, 'cr.netwrok'],
    [{ registries: [{ domains: ['a.example.com'], instanceID: 'cri-1' }] }, 'registries.0.instanceID'],
    [{ registries: [{ domains: ['a.example.com'] }, { domains: ['b.example.com'], region: 'cn-hangzhou' }] }, 'registries.1.region'],
  ];
  for (const [input, key] of rows) {
    it(`rejects "${key}" on one line`, () => {
      const problem = problemOf(input);
      assert.equal(problem, `unknown key "${key}"`);
      assert.doesNotMatch(problem, /\n/);
    });
  }
});

describe('validateConfigFile: wrong values', () => {
  const rows: Array<[string, unknown, RegExp]> = [
    ['timeout as a number', { timeout: 30 }, /^timeout: /],
    ['timeout without unit', { timeout: '30' }, /^timeout: expected a duration/],
    ['expiringThreshold garbage', { expiringThreshold: 'soon' }, /^expiringThreshold: expected a duration/],
    ['expiringThreshold with unknown unit', { expiringThreshold: '15d' }, /^expiringThreshold: expected a duration/],
    ['logLevel not a level', { logLevel: 'trace' }, /^logLevel: /],
    ['cacheDir empty', { cacheDir: '' }, /^cacheDir: /],
    ['cacheDir a number', { cacheDir: 5 }, /^cacheDir: /],
    ['metadata a string', { metadata: 'http://x' }, /^metadata: /],
    ['metadata null', { metadata: null }, /^metadata: /],
    ['metadata.endpoint not http', { metadata: { endpoint: 'ftp://x' } }, /^metadata\.endpoint: expected an http/],
    ['metadata.endpoint not a URL', { metadata: { endpoint: '100.100.100.200' } }, /^metadata\.endpoint: expected an http/],
    ['metadata.disableIMDSv1 as a string', { metadata: { disableIMDSv1: 'true' } }, /^metadata\.disableIMDSv1: /],
    ['metadata.roleName empty', { metadata: { roleName: '' } }, /^metadata\.roleName: /],
    ['metadata.allowV1OnTokenFailure as a string', { metadata: { allowV1OnTokenFailure: 'yes' } }, /^metadata\.allowV1OnTokenFailure: /],
    ['cr.network unknown', { cr: { network: 'internal' } }, /^cr\.network: /],
    ['cr.endpoint not a URL', { cr: { endpoint: 'cr.example.com' } }, /^cr\.endpoint/],
    ['cr.tokenExpiresInHours 0', { cr: { tokenExpiresInHours: 0 } }, /^cr\.tokenExpiresInHours: .*1 to 24/],
    ['cr.tokenExpiresInHours 25', { cr: { tokenExpiresInHours: 25 } }, /^cr\.tokenExpiresInHours: .*1 to 24/],
    ['cr.tokenExpiresInHours 1.5', { cr: { tokenExpiresInHours: 1.5 } }, /^cr\.tokenExpiresInHours: /],
    ['cr.tokenExpiresInHours as a string', { cr: { tokenExpiresInHours: '6' } }, /^cr\.tokenExpiresInHours: /],
    ['cr.endpoint map with bad URL', { cr: { endpoint: { 'cn-hangzhou': 'ftp://x' } } }, /^cr\.endpoint\.cn-hangzhou: /],
    ['cr.endpoint map with bad region', { cr: { endpoint: { Hangzhou: 'http://x' } } }, /^cr\.endpoint\.Hangzhou: expected a region id/],
    ['registries a mapping', { registries: { domains: ['a'] } }, /^registries: /],
    ['registries entry without domains', { registries: [{ instanceId: 'cri-1' }] }, /^registries\.0\.domains: /],
    ['registries entry with empty domains', { registries: [{ domains: [] }] }, /^registries\.0\.domains: list at least one domain/],
    ['registries domain with a scheme', { registries: [{ domains: ['https://a.example.com'] }] }, /^registries\.0\.domains\.0: expected a registry host name/],
    ['registries domain with a path', { registries: [{ domains: ['a.example.com/ns'] }] }, /^registries\.0\.domains\.0: /],
    ['registries instanceId with spaces', { registries: [{ domains: ['a.example.com'], instanceId: 'cri 1' }] }, /^registries\.0\.instanceId: /],
    ['registries regionId upper case', { registries: [{ domains: ['a.example.com'], regionId: 'CN-HANGZHOU' }] }, /^registries\.0\.regionId: expected a region id/],
  ];
  for (const [name, input, want] of rows) {
    it(`rejects ${name}`, () => {
      const problem = problemOf(input);
      assert.match(problem, want);
      assert.doesNotMatch(problem, /\n/);
    });
  }

  const topLevel: Array<[string, unknown]> = [
    ['a list', ['timeout', '5s']],
    ['a string', 'timeout: 5s'],
    ['a number', 42],
    ['a boolean', true],
  ];
  for (const [name, input] of topLevel) {
    it(`rejects a top level that is ${name}`, () => {
      assert.equal(problemOf(input), 'the top level must be a mapping');
    });
  }
});

describe('isGoDuration / isHttpUrl', () => {
  const durations: Array<[string, boolean]> = [
    ['15m', true],
    ['30s', true],
    ['1h2m3.5s', true],
    ['0', true],
    ['-5s', true], // syntactically a duration; ranges are resolve.ts's job
    ['', false],
    ['15', false],
    ['m', false],
    ['1 m', false],
    ['1d', false],
  ];
  for (const [s, want] of durations) {
    it(`isGoDuration(${JSON.stringify(s)}) = ${want}`, () => assert.equal(isGoDuration(s), want));
  }
  const urls: Array<[string, boolean]> = [
    ['http://100.100.100.200', true],
    ['https://cr.cn-hangzhou.aliyuncs.com', true],
    ['http://127.0.0.1:8080/', true],
    ['ftp://example.com', false],
    ['file:///etc/passwd', false],
    ['example.com', false],
    ['', false],
  ];
  for (const [s, want] of urls) {
    it(`isHttpUrl(${JSON.stringify(s)}) = ${want}`, () => assert.equal(isHttpUrl(s), want));
  }
});
