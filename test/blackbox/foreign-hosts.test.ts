// Enterprise-form hosts that belong to other accounts, e.g. PAI's public images on
// dsw-registry-vpc.<region>.cr.aliyuncs.com or eas-registry-vpc...: ListInstance in the node's
// account finds no such instance. The provider answers "no credentials" for the registry for a
// few minutes (so the kubelet pulls anonymously and does not ask again on every pull), with one
// info line saying why and what to do if the instance is in fact private.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { count, eeHost, withCloud } from '../helpers/cloud.ts';
import { assertSuccess, parseGoDurationMs } from '../helpers/run-provider.ts';

const PAI = 'dsw-registry-vpc.cn-hangzhou.cr.aliyuncs.com';

describe('Enterprise-form hosts of other accounts', () => {
  it('no credentials, cached per registry for 5 minutes, one info line; the miss is remembered on disk', () =>
    withCloud(async ({ e, request }) => {
      e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      const r = await request(`${PAI}/pai/pytorch:2.3`, { args: ['--log-level', 'info'] });
      const response = assertSuccess(r);
      assert.equal(response.cacheKeyType, 'Registry');
      const cacheMs = parseGoDurationMs(response.cacheDuration ?? '');
      assert.ok(cacheMs > 4 * 60_000 && cacheMs <= 5 * 60_000, `cacheDuration ${response.cacheDuration}`);
      assert.ok(response.auth === undefined || Object.keys(response.auth).length === 0, 'no credentials');
      const lines = r.stderr.split('\n').filter((l) => /no Enterprise Edition instance named "dsw"/.test(l));
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /\binfo\b/i);
      assert.match(lines[0]!, /anonymous/);
      assert.match(lines[0]!, /assumeRole/);
      assert.doesNotMatch(r.stderr, /\berror\b/i);
      assert.equal(count(e, { server: 'cr', action: 'ListInstance' }), 1);
      assert.equal(e.state.issuedTokens().length, 0);
      // Another image on the same host soon after: the miss is cached, no second lookup.
      const again = assertSuccess(await request(`${PAI}/pai/tensorflow:2.16`));
      assert.equal(again.cacheKeyType, 'Registry');
      assert.equal(count(e, { server: 'cr', action: 'ListInstance' }), 1);
    }));

  it('at the default log level the answer is silent', () =>
    withCloud(async ({ request }) => {
      const r = await request(`${eeHost('eas', 'cn-shanghai', true)}/pai/serving:1`);
      assertSuccess(r);
      assert.equal(r.stderr, '');
    }));

  it('an instance named in the host that does exist still gets a token', () =>
    withCloud(async ({ e, request }) => {
      e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'dsw' });
      const r = assertSuccess(await request(`${PAI}/pai/pytorch:2.3`));
      assert.ok(r.auth?.[PAI]?.password);
    }));

  it('a ListInstance denial is still an error (not mistaken for a foreign host)', () =>
    withCloud(async ({ e, request }) => {
      e.state.denyAction('role/acr-node-role', 'ListInstance');
      const r = await request(`${PAI}/pai/pytorch:2.3`);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /cr:ListInstance/);
    }));
});
