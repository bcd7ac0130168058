// Which hosts get a token: only positively identified ACR hosts. Everything else (other
// registries, look-alikes, hosts with ACR names in the path) gets "no credentials" without a
// single cloud call; the new Personal Edition hosts fail clearly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertCredentials, assertNoCredentials } from '../helpers/assert-response.ts';
import { count, withCloud } from '../helpers/cloud.ts';
import { API_VERSIONS, assertOneLineFailure, stderrLines } from '../helpers/run-provider.ts';

const NOT_ACR = [
  'docker.io/library/nginx',
  'registry.cn-hangzhou.aliyuncs.com.evil.com/x',
  'registry.oss-cn-hangzhou.aliyuncs.com/x',
  'x-registry.cn-shanghai.cr.aliyuncs.com.attacker.io/x',
  'evil.com/registry.cn-hangzhou.aliyuncs.com/x',
  'registry.cn-hangzhou.aliyuncs.com:5000/ns/app',
  'registry.cn-hangzhou.aliyuncs.com:444/ns/app',
  'registry.cn-hangzhou.aliyuncs.com:0443/ns/app',
  'acme-registry.cn-hangzhou.cr.aliyuncs.com:8443/ns/app',
  'registry.cn-hangzhou.aliyuncs.com:443.evil.com/ns/app',
  'registry.cn-hangzhou.aliyuncs.com.evil.com:443/ns/app',
  'registry.cn-hangzhou.aliyuncs.com.cn/ns/app',
  'evilregistry.cn-hangzhou.aliyuncs.com/ns/app',
  'registry-evil.cn-hangzhou.aliyuncs.com/ns/app',
  'acme-registry.cn-hangzhou.cr.aliyuncs.com@evil.com/ns/app',
  'a-registry.cn-hangzhou.cr.aliyuncs.com/ns/app',
  'acme-registry.cn-hangzhou.cr.aliyuncs.com.',
  'nginx',
  'localhost:5000/ns/app',
  'cr.cn-hangzhou.aliyuncs.com/ns/app',
  'REGISTRY.CN-HANGZHOU.ALIYUNCS.COM\u212a/ns/app',
];

describe('hosts that are not ACR get no credentials and cause no cloud call', () => {
  it('each look-alike answers exit 0, no auth, cacheKeyType Image', () =>
    withCloud(async ({ e, request }) => {
      e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      e.state.addInstance({ regionId: 'cn-shanghai', instanceName: 'x' });
      for (const image of NOT_ACR) {
        const r = await request(image);
        assertNoCredentials(r);
        assert.deepEqual(stderrLines(r.stderr), [], `quiet for ${image}`);
      }
      assert.equal(count(e, { server: 'imds' }), 0, 'no metadata call');
      assert.equal(count(e, { server: 'cr' }), 0, 'no CR call');
      assert.equal(e.state.issuedTokens().length, 0);
    }));

  for (const v of API_VERSIONS) {
    it(`the "not mine" answer echoes the ${v} apiVersion`, () =>
      withCloud(async ({ e, request }) => {
        assertNoCredentials(await request('docker.io/library/nginx', { apiVersion: v }), v);
        assert.equal(count(e), 0);
      }));
  }
});

describe('a built-in host with the HTTPS port spelled out (:443) is the same registry', () => {
  it('Personal Edition: credentials keyed by the exact host:443, sharing the cached token with the plain host', () =>
    withCloud(async ({ e, request }) => {
      const host = 'registry.cn-hangzhou.aliyuncs.com:443';
      const { token } = assertCredentials(await request(`${host}/ns/app`), e, { host });
      assert.equal(token.apiVersion, '2016-06-07');
      const plain = assertCredentials(await request('registry.cn-hangzhou.aliyuncs.com/ns/app'), e, { host: 'registry.cn-hangzhou.aliyuncs.com' });
      assert.equal(plain.token.password, token.password, 'one registry, one cached token');
      assert.equal(e.state.issuedTokens().length, 1);
    }));

  it('Enterprise Edition: the instance named by the host', () =>
    withCloud(async ({ e, request }) => {
      const inst = e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      const host = 'acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com:443';
      const { token } = assertCredentials(await request(`${host}/team/app:v1`), e, { host });
      assert.equal(token.instanceId, inst.instanceId);
    }));

  it('a registries entry for the plain host governs the :443 spelling too (namespace scoping cannot be bypassed)', () =>
    withCloud(
      async ({ e, request }) => {
        e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
        for (const image of ['acme-registry.cn-hangzhou.cr.aliyuncs.com/team/app', 'acme-registry.cn-hangzhou.cr.aliyuncs.com:443/team/app']) {
          assertNoCredentials(await request(image));
        }
        assert.equal(e.state.issuedTokens().length, 0);
      },
      { config: { registries: [{ domains: ['acme-registry.cn-hangzhou.cr.aliyuncs.com'], namespaces: ['team-b'] }] } },
    ));
});

describe('Personal Edition instances created since 2024-09-09 (crpi-…personal.cr.aliyuncs.com)', () => {
  for (const host of ['crpi-abc123xyz.cn-hangzhou.personal.cr.aliyuncs.com', 'crpi-abc123xyz-vpc.cn-hangzhou.personal.cr.aliyuncs.com']) {
    it(`${host}: one clear line, non-zero exit, no cloud call`, () =>
      withCloud(async ({ e, request }) => {
        const r = await request(`${host}/ns/app`);
        const line = assertOneLineFailure(r, /Personal Edition/);
        assert.match(line, /crpi-abc123xyz/);
        assert.match(line, /imagePullSecret/);
        assert.equal(count(e), 0);
      }));
  }
});
