import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProviderError } from '../../../src/errors.ts';
import { decodeRequest, MAX_REQUEST_BYTES, registryHostOf } from '../../../src/kubelet/request.ts';
import type { CredentialProviderRequest } from '../../../src/kubelet/api.ts';

const SECRET = 'eyJSECRET.TOKEN.VALUE';
const V1 = 'credentialprovider.kubelet.k8s.io/v1';
const V1B1 = 'credentialprovider.kubelet.k8s.io/v1beta1';
const V1A1 = 'credentialprovider.kubelet.k8s.io/v1alpha1';
const IMAGE = 'registry.cn-hangzhou.aliyuncs.com/ns/app';

const doc = (fields: Record<string, unknown>): string =>
  JSON.stringify({ kind: 'CredentialProviderRequest', apiVersion: V1, image: IMAGE, ...fields });

describe('decodeRequest: the documents the kubelet writes (docs/reference/kubelet-protocol.md §8(d))', () => {
  const cases: Array<[string, string, CredentialProviderRequest]> = [
    [
      'v1alpha1',
      `{"kind":"CredentialProviderRequest","apiVersion":"${V1A1}","image":"${IMAGE}"}\n`,
      { apiVersion: V1A1, image: IMAGE },
    ],
    [
      'v1beta1',
      `{"kind":"CredentialProviderRequest","apiVersion":"${V1B1}","image":"${IMAGE}"}\n`,
      { apiVersion: V1B1, image: IMAGE },
    ],
    ['v1', `{"kind":"CredentialProviderRequest","apiVersion":"${V1}","image":"${IMAGE}"}\n`, { apiVersion: V1, image: IMAGE }],
    [
      'v1 with service account',
      `{"kind":"CredentialProviderRequest","apiVersion":"${V1}","image":"test.registry.io/foobar","serviceAccountToken":"eyJhbGciOi...","serviceAccountAnnotations":{"domain.io/annotation1":"value1"}}\n`,
      {
        apiVersion: V1,
        image: 'test.registry.io/foobar',
        serviceAccountToken: 'eyJhbGciOi...',
        serviceAccountAnnotations: { 'domain.io/annotation1': 'value1' },
      },
    ],
  ];
  for (const [name, raw, want] of cases) {
    it(name, () => assert.deepEqual(decodeRequest(raw), want));
  }
});

describe('decodeRequest: tolerated variations', () => {
  const cases: Array<[string, string, CredentialProviderRequest]> = [
    ['leading UTF-8 BOM', `\uFEFF${doc({})}\n`, { apiVersion: V1, image: IMAGE }],
    ['surrounding whitespace', `  \r\n\t${doc({})}\n\n  `, { apiVersion: V1, image: IMAGE }],
    ['BOM then whitespace', `\uFEFF \n${doc({})}`, { apiVersion: V1, image: IMAGE }],
    ['unknown extra fields', doc({ futureField: { a: 1 }, podName: 'p' }), { apiVersion: V1, image: IMAGE }],
    [
      'v1beta1 drops SA fields',
      doc({ apiVersion: V1B1, serviceAccountToken: SECRET, serviceAccountAnnotations: { a: 'b' } }),
      { apiVersion: V1B1, image: IMAGE },
    ],
    [
      'v1alpha1 ignores even malformed SA fields',
      doc({ apiVersion: V1A1, serviceAccountToken: 42, serviceAccountAnnotations: [1] }),
      { apiVersion: V1A1, image: IMAGE },
    ],
    ['v1 null SA fields mean absent (as in Go)', doc({ serviceAccountToken: null, serviceAccountAnnotations: null }), { apiVersion: V1, image: IMAGE }],
    ['v1 empty token means absent (Go omitempty)', doc({ serviceAccountToken: '' }), { apiVersion: V1, image: IMAGE }],
    ['v1 empty annotations mean absent', doc({ serviceAccountAnnotations: {} }), { apiVersion: V1, image: IMAGE }],
    ['v1 token only', doc({ serviceAccountToken: SECRET }), { apiVersion: V1, image: IMAGE, serviceAccountToken: SECRET }],
    [
      'v1 annotations only, several keys',
      doc({ serviceAccountAnnotations: { 'a.io/x': '1', 'b.io/y': '' } }),
      { apiVersion: V1, image: IMAGE, serviceAccountAnnotations: { 'a.io/x': '1', 'b.io/y': '' } },
    ],
    ['image with port', doc({ image: 'host:5000/ns/app' }), { apiVersion: V1, image: 'host:5000/ns/app' }],
  ];
  for (const [name, raw, want] of cases) {
    it(name, () => assert.deepEqual(decodeRequest(raw), want));
  }

  it('keeps a "__proto__" annotation as plain data', () => {
    const got = decodeRequest(`{"kind":"CredentialProviderRequest","apiVersion":"${V1}","image":"a/b","serviceAccountAnnotations":{"__proto__":"x"}}`);
    const ann = got.serviceAccountAnnotations;
    assert.ok(ann !== undefined);
    assert.equal(Object.getPrototypeOf(ann), Object.prototype);
    assert.deepEqual(Object.entries(ann), [['__proto__', 'x']]);
  });
});

describe('decodeRequest: rejected input', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['empty', '', /empty/],
    ['whitespace only', ' \n\t ', /empty/],
    ['BOM only', '\uFEFF', /empty/],
    ['invalid JSON', `{"kind":"CredentialProviderRequest","serviceAccountToken":"${SECRET}"`, /not valid JSON/],
    ['invalid JSON (token as bare word)', `${SECRET}`, /not valid JSON/],
    ['two documents', `${doc({})}\n${doc({})}`, /not valid JSON/],
    ['array', `[${JSON.stringify(SECRET)}]`, /must be a JSON object, got an array/],
    ['string', JSON.stringify(SECRET), /must be a JSON object, got a string/],
    ['number', '42', /must be a JSON object, got a number/],
    ['null', 'null', /must be a JSON object, got null/],
    ['boolean', 'true', /must be a JSON object, got a boolean/],
    ['kind missing', JSON.stringify({ apiVersion: V1, image: IMAGE }), /no "kind"/],
    ['kind wrong', doc({ kind: 'CredentialProviderResponse', serviceAccountToken: SECRET }), /kind must be "CredentialProviderRequest", got "CredentialProviderResponse"/],
    ['kind wrong case', doc({ kind: 'credentialproviderrequest' }), /kind must be/],
    ['kind not a string', doc({ kind: 7 }), /kind must be .*got a number/],
    ['kind is the secret (truncated)', doc({ kind: `${'k'.repeat(100)}${SECRET}` }), /kind must be .*…"/],
    ['apiVersion missing', JSON.stringify({ kind: 'CredentialProviderRequest', image: IMAGE }), /no "apiVersion"/],
    ['apiVersion unknown', doc({ apiVersion: 'credentialprovider.kubelet.k8s.io/v2' }), /unsupported request apiVersion "credentialprovider.kubelet.k8s.io\/v2"/],
    ['apiVersion wrong group', doc({ apiVersion: 'foobar.kubelet.k8s.io/v1' }), /unsupported request apiVersion/],
    ['apiVersion not a string', doc({ apiVersion: ['v1'] }), /unsupported request apiVersion an array/],
    ['image missing', JSON.stringify({ kind: 'CredentialProviderRequest', apiVersion: V1 }), /no "image"/],
    ['image null', doc({ image: null }), /no "image"/],
    ['image not a string', doc({ image: { host: 'x' } }), /"image" must be a string, got an object/],
    ['image empty', doc({ image: '' }), /"image" is empty/],
    ['v1 token not a string', doc({ serviceAccountToken: 123 }), /"serviceAccountToken" must be a string, got a number/],
    ['v1 token an object', doc({ serviceAccountToken: { t: SECRET } }), /"serviceAccountToken" must be a string, got an object/],
    ['v1 annotations an array', doc({ serviceAccountAnnotations: [SECRET] }), /"serviceAccountAnnotations" must be an object, got an array/],
    ['v1 annotations a string', doc({ serviceAccountAnnotations: SECRET }), /"serviceAccountAnnotations" must be an object, got a string/],
    ['v1 annotation value not a string', doc({ serviceAccountAnnotations: { a: 'b', c: 1 } }), /values must be strings, got a number/],
    ['v1 annotation value null', doc({ serviceAccountAnnotations: { a: null } }), /values must be strings, got null/],
    ['oversized', doc({ pad: 'x'.repeat(MAX_REQUEST_BYTES) }), /larger than 262144 bytes/],
  ];
  for (const [name, raw, message] of cases) {
    it(name, () => {
      assert.throws(
        () => decodeRequest(raw),
        (err: unknown) => {
          assert.ok(err instanceof ProviderError, 'is a ProviderError');
          assert.equal(err.errorClass, 'input');
          assert.match(err.message, message);
          assert.ok(!err.message.includes('\n'), 'one line');
          assert.ok(!err.message.includes(SECRET), 'does not echo the token');
          assert.ok(err.message.length <= 160, 'short');
          return true;
        },
      );
    });
  }
});

describe('registryHostOf (kubelet parseRegistry)', () => {
  const cases: Array<[string, string]> = [
    ['registry.cn-hangzhou.aliyuncs.com/ns/app', 'registry.cn-hangzhou.aliyuncs.com'],
    ['inst-registry-vpc.cn-shanghai.cr.aliyuncs.com/a/b/c', 'inst-registry-vpc.cn-shanghai.cr.aliyuncs.com'],
    ['host:5000/repo', 'host:5000'],
    ['docker.io/library/nginx', 'docker.io'],
    ['localhost', 'localhost'],
    ['/leading-slash', ''],
    ['a@registry.cn-hangzhou.aliyuncs.com/ns/app', 'a@registry.cn-hangzhou.aliyuncs.com'],
  ];
  for (const [image, want] of cases) {
    it(`${image} -> ${want}`, () => assert.equal(registryHostOf(image), want));
  }
});
