// Which hosts get a token: only positively identified ACR hosts. Everything else (other
// registries, look-alikes, hosts with ACR names in the path) gets "no credentials" without a
// single cloud call; the new Personal Edition hosts fail clearly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertNoCredentials } from '../helpers/assert-response.ts';
import { count, withCloud } from '../helpers/cloud.ts';
import { API_VERSIONS, assertOneLineFailure, stderrLines } from '../helpers/run-provider.ts';

const NOT_ACR = [
  'docker.io/library/nginx',
  'registry.cn-hangzhou.aliyuncs.com.evil.com/x',
  'registry.oss-cn-hangzhou.aliyuncs.com/x',
  'x-registry.cn-shanghai.cr.aliyuncs.com.attacker.io/x',
  'evil.com/registry.cn-hangzhou.aliyuncs.com/x',
  'registry.cn-hangzhou.aliyuncs.com:443/ns/app',
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
