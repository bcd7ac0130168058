// Every malformed request, flag or config file: one line on stderr, non-zero exit, nothing on
// stdout, no stack trace, and no cloud call.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { count, PE_HOST, withCloud } from '../helpers/cloud.ts';
import { assertOneLineFailure, kubeletRequest, writeConfig } from '../helpers/run-provider.ts';

const V1 = 'credentialprovider.kubelet.k8s.io/v1';

const BAD_STDIN: Array<[string, string, RegExp]> = [
  ['empty stdin', '', /empty/],
  ['only whitespace', ' \n\t \r\n', /empty/],
  ['invalid JSON', '{"kind":"CredentialProviderRequest",', /not valid JSON/],
  ['a JSON array', '[]', /JSON object/],
  ['a JSON string', '"registry.cn-hangzhou.aliyuncs.com/ns/app"', /JSON object/],
  ['a JSON number', '42', /JSON object/],
  ['JSON null', 'null', /JSON object/],
  ['wrong kind', `{"kind":"CredentialProviderResponse","apiVersion":"${V1}","image":"${PE_HOST}/ns/app"}`, /kind/],
  ['missing kind', `{"apiVersion":"${V1}","image":"${PE_HOST}/ns/app"}`, /kind/],
  ['unknown apiVersion', `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v2","image":"${PE_HOST}/ns/app"}`, /apiVersion/],
  ['another group', `{"kind":"CredentialProviderRequest","apiVersion":"foobar.kubelet.k8s.io/v1","image":"${PE_HOST}/ns/app"}`, /apiVersion/],
  ['missing apiVersion', `{"kind":"CredentialProviderRequest","image":"${PE_HOST}/ns/app"}`, /apiVersion/],
  ['missing image', `{"kind":"CredentialProviderRequest","apiVersion":"${V1}"}`, /image/],
  ['non-string image', `{"kind":"CredentialProviderRequest","apiVersion":"${V1}","image":42}`, /image/],
  ['empty image', `{"kind":"CredentialProviderRequest","apiVersion":"${V1}","image":""}`, /image/],
  ['object image', `{"kind":"CredentialProviderRequest","apiVersion":"${V1}","image":{"host":"x"}}`, /image/],
  ['non-string serviceAccountToken', `{"kind":"CredentialProviderRequest","apiVersion":"${V1}","image":"${PE_HOST}/ns/app","serviceAccountToken":7}`, /serviceAccountToken/],
  ['oversized stdin (> 256 KiB)', kubeletRequest(`${PE_HOST}/ns/${'a'.repeat(300 * 1024)}`), /larger than/],
  ['oversized stdin of whitespace (1 MiB)', ' '.repeat(1024 * 1024), /larger than/],
];

describe('bad requests on stdin', () => {
  for (const [name, stdin, pattern] of BAD_STDIN) {
    it(`${name}: one line, non-zero exit, empty stdout`, () =>
      withCloud(async ({ e, run }) => {
        const r = await run({ stdin });
        assertOneLineFailure(r, pattern);
        assert.equal(count(e), 0, 'no cloud call');
      }));
  }

  it('the error line never echoes the request content (it may hold a service account token)', () =>
    withCloud(async ({ run }) => {
      const secret = 'eyJhbGciOiJSUzI1NiJ9.sa-token-that-must-not-leak';
      const r = await run({ stdin: `{"kind":"Nope","apiVersion":"${V1}","image":"${PE_HOST}/ns/app","serviceAccountToken":"${secret}"` });
      assertOneLineFailure(r);
      assert.ok(!r.stderr.includes(secret));
      const r2 = await run({ stdin: `{"kind":"CredentialProviderRequest","apiVersion":"${V1}","image":"${PE_HOST}/ns/app","serviceAccountToken":"${secret}","serviceAccountAnnotations":{"a":1}}` });
      assertOneLineFailure(r2, /serviceAccountAnnotations/);
      assert.ok(!r2.stderr.includes(secret));
    }));
});

describe('bad flags', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['an unknown flag', ['--bogus-flag'], /bogus/],
    ['an unknown subcommand', ['frobnicate'], /frobnicate|Unknown/i],
    ['an invalid --log-level', ['--log-level', 'loud'], /log-level|loud/],
    ['an invalid --expiring-threshold', ['--expiring-threshold', '15 minutes'], /expiring-threshold/],
    ['a --timeout above 55s', ['--timeout', '2m'], /timeout/],
    ['a --metadata-endpoint that is not a URL', ['--metadata-endpoint', 'not a url'], /metadata-endpoint/],
    ['a --cr-endpoint that is not a URL', ['--cr-endpoint', 'cn-hangzhou=ftp://x'], /cr-endpoint/],
  ];
  for (const [name, args, pattern] of cases) {
    it(`${name}: one line, non-zero exit`, () =>
      withCloud(async ({ e, run }) => {
        const r = await run({ args, stdin: kubeletRequest(`${PE_HOST}/ns/app`) });
        assertOneLineFailure(r, pattern);
        assert.equal(count(e), 0);
      }));
  }
});

describe('bad config files', () => {
  it('an unknown key: the message names the key', () =>
    withCloud(async ({ e, dir, run }) => {
      const config = writeConfig(dir, e, { cacheDirectory: '/tmp/x' }, 'unknown.json');
      const r = await run({ args: ['--config', config], stdin: kubeletRequest(`${PE_HOST}/ns/app`) });
      const line = assertOneLineFailure(r, /cacheDirectory/);
      assert.match(line, /unknown key/);
      assert.equal(count(e), 0);
    }));

  it('an unknown nested key: the message names its path', () =>
    withCloud(async ({ e, dir, run }) => {
      const config = writeConfig(dir, e, { metadata: { rolename: 'x' } }, 'nested.json');
      const r = await run({ args: ['--config', config], stdin: kubeletRequest(`${PE_HOST}/ns/app`) });
      assertOneLineFailure(r, /metadata\.rolename/);
    }));

  it('an unknown key in YAML: the message names the key', () =>
    withCloud(async ({ dir, run }) => {
      const path = join(dir, 'unknown.yaml');
      writeFileSync(path, `cacheDir: ${dir}/cache\nexpiringThresold: 10m\n`);
      const r = await run({ args: ['--config', path], stdin: kubeletRequest(`${PE_HOST}/ns/app`) });
      assertOneLineFailure(r, /expiringThresold/);
    }));

  it('a value of the wrong type: the message names the key', () =>
    withCloud(async ({ e, dir, run }) => {
      const config = writeConfig(dir, e, { expiringThreshold: 900 }, 'type.json');
      const r = await run({ args: ['--config', config], stdin: kubeletRequest(`${PE_HOST}/ns/app`) });
      assertOneLineFailure(r, /expiringThreshold/);
    }));

  it('not valid YAML', () =>
    withCloud(async ({ dir, run }) => {
      const path = join(dir, 'broken.yaml');
      writeFileSync(path, 'cacheDir: [unclosed\n  - : : nope\n\tlogLevel: {\n');
      const r = await run({ args: ['--config', path], stdin: kubeletRequest(`${PE_HOST}/ns/app`) });
      assertOneLineFailure(r, /YAML/);
    }));

  it('not valid JSON', () =>
    withCloud(async ({ dir, run }) => {
      const path = join(dir, 'broken.json');
      writeFileSync(path, '{"cacheDir": "/tmp/x",');
      const r = await run({ args: ['--config', path], stdin: kubeletRequest(`${PE_HOST}/ns/app`) });
      assertOneLineFailure(r, /JSON/);
    }));

  it('a top level that is not a mapping', () =>
    withCloud(async ({ dir, run }) => {
      const path = join(dir, 'list.yaml');
      writeFileSync(path, '- cacheDir\n- logLevel\n');
      const r = await run({ args: ['--config', path], stdin: kubeletRequest(`${PE_HOST}/ns/app`) });
      assertOneLineFailure(r, /mapping/);
    }));

  it('a config file that does not exist', () =>
    withCloud(async ({ e, dir, run }) => {
      const path = join(dir, 'nope', 'missing.yaml');
      const r = await run({ args: ['--config', path], stdin: kubeletRequest(`${PE_HOST}/ns/app`) });
      const line = assertOneLineFailure(r, /no such file/);
      assert.ok(line.includes(path), 'the message names the file');
      assert.equal(count(e), 0);
    }));

  it('a registries entry without domains', () =>
    withCloud(async ({ e, dir, run }) => {
      const config = writeConfig(dir, e, { registries: [{ instanceId: 'cri-abc' }] }, 'registries.json');
      const r = await run({ args: ['--config', config], stdin: kubeletRequest(`${PE_HOST}/ns/app`) });
      assertOneLineFailure(r, /registries/);
    }));
});
