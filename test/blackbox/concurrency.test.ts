// A cold node pulling many images at once: the kubelet execs one provider per image, all at
// the same time. One token call per registry, everyone gets the right credentials.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertCredentials } from '../helpers/assert-response.ts';
import { count, eeHost, eeTokenCalls, PE_HOST, personalTokenCalls, withCloud } from '../helpers/cloud.ts';

describe('concurrent cold invocations', () => {
  it('20 at once across two registries: all succeed, one token call per registry', () =>
    withCloud(async ({ e, request }) => {
      const inst = e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      const ee = eeHost('acme');
      const images = [...Array.from({ length: 10 }, (_, i) => `${PE_HOST}/ns/app-${i}`), ...Array.from({ length: 10 }, (_, i) => `${ee}/team-${i}/svc`)];
      const results = await Promise.all(images.map((image) => request(image)));

      const pePasswords = new Set<string>();
      const eePasswords = new Set<string>();
      results.forEach((r, i) => {
        const isPe = i < 10;
        const host = isPe ? PE_HOST : ee;
        // Waiting for another process's refresh is normal and silent.
        const { token } = assertCredentials(r, e, { host });
        if (isPe) {
          assert.equal(token.instanceId, null);
          pePasswords.add(token.password);
        } else {
          assert.equal(token.instanceId, inst.instanceId);
          eePasswords.add(token.password);
        }
      });
      assert.equal(pePasswords.size, 1, 'every Personal Edition caller got the same token');
      assert.equal(eePasswords.size, 1, 'every Enterprise Edition caller got the same token');
      assert.equal(personalTokenCalls(e), 1, 'one Personal Edition token call');
      assert.equal(eeTokenCalls(e), 1, 'one GetAuthorizationToken call');
      assert.ok(count(e, { server: 'cr', action: 'ListInstance' }) <= 1, 'at most one ListInstance page walk (one page here)');
      assert.equal(e.state.issuedTokens().length, 2);
    }));

  it('10 at once for one registry while its instance lookup needs three pages: one page walk', () =>
    withCloud(async ({ e, request }) => {
      for (let i = 0; i < 70; i++) e.state.addInstance({ regionId: 'cn-shanghai', instanceName: `svc-${i}-x` });
      const inst = e.state.addInstance({ regionId: 'cn-shanghai', instanceName: 'acme' });
      const host = eeHost('acme', 'cn-shanghai');
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => request(`${host}/ns/app-${i}`)));
      for (const r of results) assert.equal(assertCredentials(r, e, { host }).token.instanceId, inst.instanceId);
      assert.equal(eeTokenCalls(e), 1);
      assert.equal(count(e, { server: 'cr', action: 'ListInstance' }), 3, 'pages 1..3, once');
    }));
});
