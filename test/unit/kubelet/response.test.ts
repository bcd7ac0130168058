import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeResponse } from '../../../src/kubelet/response.ts';
import { parseGoDuration } from '../../../src/kubelet/go-duration.ts';
import type { AuthConfig, CacheKeyType, ProviderApiVersion } from '../../../src/kubelet/api.ts';

const V1 = 'credentialprovider.kubelet.k8s.io/v1';
const V1B1 = 'credentialprovider.kubelet.k8s.io/v1beta1';
const V1A1 = 'credentialprovider.kubelet.k8s.io/v1alpha1';

interface Input {
  apiVersion: ProviderApiVersion;
  cacheKeyType: CacheKeyType;
  cacheDurationMs?: number;
  auth?: Record<string, AuthConfig>;
}

describe('encodeResponse: valid documents of docs/reference/kubelet-protocol.md §8(d), byte for byte', () => {
  const cases: Array<[string, Input, string]> = [
    [
      'v1, registry-scoped, 5-minute cache',
      {
        apiVersion: V1,
        cacheKeyType: 'Registry',
        cacheDurationMs: 300_000,
        auth: { 'registry.cn-hangzhou.aliyuncs.com': { username: 'user', password: 'secret' } },
      },
      '{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Registry","cacheDuration":"5m0s","auth":{"registry.cn-hangzhou.aliyuncs.com":{"username":"user","password":"secret"}}}',
    ],
    [
      'v1, not mine',
      { apiVersion: V1, cacheKeyType: 'Image', cacheDurationMs: 60_000 },
      '{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Image","cacheDuration":"1m0s"}',
    ],
    [
      'v1, no cacheDuration, auth order preserved',
      {
        apiVersion: V1,
        cacheKeyType: 'Global',
        auth: {
          'gcr.io': { username: '_token', password: 'ya29...' },
          '*.gcr.io': { username: '_token', password: 'ya29...' },
        },
      },
      '{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Global","auth":{"gcr.io":{"username":"_token","password":"ya29..."},"*.gcr.io":{"username":"_token","password":"ya29..."}}}',
    ],
    [
      'v1, token pass-through, never cached',
      {
        apiVersion: V1,
        cacheKeyType: 'Image',
        cacheDurationMs: 0,
        auth: { 'registry.example.com': { username: '', password: '<the serviceAccountToken>' } },
      },
      '{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Image","cacheDuration":"0s","auth":{"registry.example.com":{"username":"","password":"<the serviceAccountToken>"}}}',
    ],
  ];
  for (const [name, input, want] of cases) {
    it(name, () => assert.equal(encodeResponse(input), `${want}\n`));
  }

  // The upstream test documents spell the duration "1m"; Go (and we) write
  // "1m0s". Same value, so the documents match once that spelling is aligned.
  const upstream: Array<[ProviderApiVersion, string]> = [
    [
      V1B1,
      '{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","cacheKeyType":"Registry","cacheDuration":"1m","auth":{"*.registry.io":{"username":"user","password":"password"}}}',
    ],
    [
      V1A1,
      '{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1alpha1","cacheKeyType":"Registry","cacheDuration":"1m","auth":{"*.registry.io":{"username":"user","password":"password"}}}',
    ],
  ];
  for (const [apiVersion, doc] of upstream) {
    it(`${apiVersion} (upstream Test_decodeResponse document)`, () => {
      const got = encodeResponse({
        apiVersion,
        cacheKeyType: 'Registry',
        cacheDurationMs: parseGoDuration('1m'),
        auth: { '*.registry.io': { username: 'user', password: 'password' } },
      });
      assert.equal(got, `${doc.replace('"cacheDuration":"1m"', '"cacheDuration":"1m0s"')}\n`);
    });
  }
});

describe('encodeResponse: shape', () => {
  const keysOf = (s: string): string[] => Object.keys(JSON.parse(s) as object);

  const shapes: Array<[string, Input, string[]]> = [
    ['all fields, in order', { apiVersion: V1, cacheKeyType: 'Registry', cacheDurationMs: 1, auth: { h: { username: 'u', password: 'p' } } }, ['kind', 'apiVersion', 'cacheKeyType', 'cacheDuration', 'auth']],
    ['no cacheDuration when undefined', { apiVersion: V1, cacheKeyType: 'Registry', auth: { h: { username: 'u', password: 'p' } } }, ['kind', 'apiVersion', 'cacheKeyType', 'auth']],
    ['no auth when undefined', { apiVersion: V1, cacheKeyType: 'Image', cacheDurationMs: 0 }, ['kind', 'apiVersion', 'cacheKeyType', 'cacheDuration']],
    ['no auth when empty', { apiVersion: V1, cacheKeyType: 'Image', auth: {} }, ['kind', 'apiVersion', 'cacheKeyType']],
  ];
  for (const [name, input, keys] of shapes) {
    it(name, () => assert.deepEqual(keysOf(encodeResponse(input)), keys));
  }

  it('is one line ending in exactly one newline', () => {
    const out = encodeResponse({ apiVersion: V1, cacheKeyType: 'Registry', cacheDurationMs: 5_430_000, auth: { 'a\nb': { username: 'x\ny', password: 'p' } } });
    assert.ok(out.endsWith('}\n'));
    assert.equal(out.indexOf('\n'), out.length - 1);
    assert.match(out, /"cacheDuration":"1h30m30s"/);
  });

  it('copies only username and password from auth entries', () => {
    const entry = { username: 'u', password: 'p', email: 'x@y', auth: 'dTpw' } as AuthConfig;
    const out = encodeResponse({ apiVersion: V1, cacheKeyType: 'Registry', auth: { h: entry } });
    assert.equal(out, `{"kind":"CredentialProviderResponse","apiVersion":"${V1}","cacheKeyType":"Registry","auth":{"h":{"username":"u","password":"p"}}}\n`);
  });

  it('keeps a "__proto__" auth key as data', () => {
    const auth = JSON.parse('{"__proto__":{"username":"u","password":"p"}}') as Record<string, AuthConfig>;
    const out = encodeResponse({ apiVersion: V1, cacheKeyType: 'Registry', auth });
    assert.match(out, /"auth":\{"__proto__":\{"username":"u","password":"p"\}\}/);
  });

  const invalid: Array<[string, unknown]> = [
    ['unknown apiVersion', { apiVersion: 'credentialprovider.kubelet.k8s.io/v2', cacheKeyType: 'Image' }],
    ['lower-case cacheKeyType', { apiVersion: V1, cacheKeyType: 'registry' }],
    ['missing cacheKeyType', { apiVersion: V1 }],
    ['negative duration', { apiVersion: V1, cacheKeyType: 'Image', cacheDurationMs: -1 }],
    ['NaN duration', { apiVersion: V1, cacheKeyType: 'Image', cacheDurationMs: Number.NaN }],
    ['non-string password', { apiVersion: V1, cacheKeyType: 'Image', auth: { h: { username: 'u', password: 1 } } }],
  ];
  for (const [name, input] of invalid) {
    it(`throws on ${name}`, () => assert.throws(() => encodeResponse(input as Input)));
  }
});
