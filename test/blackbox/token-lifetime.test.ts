// cr.tokenExpiresInHours: GetAuthorizationToken's ExpiresInHours (1-24), so fleets can trade
// token lifetime for fewer calls. Unset, the API's default (1 h) applies and nothing is sent.
// A token fetched with STS credentials still dies with the STS session (the STS cap), and
// Personal Edition tokens (2016-06-07 /tokens, no such parameter) always live 1 h.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertCredentials, MIN } from '../helpers/assert-response.ts';
import { eeHost, PE_HOST, withCloud } from '../helpers/cloud.ts';
import { assertOneLineFailure } from '../helpers/run-provider.ts';

const HOUR = 60 * MIN;
const HOST = eeHost('acme');
const STATIC = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI5tLifetimeKey0001', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'lifetime-secret-0123456789abcdef' };

describe('cr.tokenExpiresInHours', () => {
  it('a static AccessKey gets a 12-hour Enterprise Edition token; the kubelet may keep it 12h minus the threshold', () =>
    withCloud(
      async (c) => {
        c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
        c.e.state.addAccessKey(STATIC.ALIBABA_CLOUD_ACCESS_KEY_ID, STATIC.ALIBABA_CLOUD_ACCESS_KEY_SECRET, 'user/ci');
        const { token, cacheMs } = assertCredentials(await c.request(`${HOST}/ns/app`, { env: STATIC }), c.e, { host: HOST });
        assert.equal(token.expiresAt - token.issuedAt, 12 * HOUR);
        assert.ok(cacheMs > 11 * HOUR && cacheMs <= 12 * HOUR - 15 * MIN, `cacheDuration ${cacheMs}ms`);
      },
      { config: { cr: { tokenExpiresInHours: 12 } } },
    ));

  it('with the node\'s RAM role the token still dies with the STS session', () =>
    withCloud(
      async (c) => {
        c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
        c.e.state.setStsLifetime(3 * HOUR);
        const { token, cacheMs } = assertCredentials(await c.request(`${HOST}/ns/app`), c.e, { host: HOST });
        const session = c.e.state.stsCredentialsFor('role/acr-node-role');
        assert.equal(token.expiresAt, session.expiresAt, 'capped at the STS expiry');
        assert.ok(cacheMs <= 3 * HOUR - 15 * MIN);
      },
      { config: { cr: { tokenExpiresInHours: 24 } } },
    ));

  it('Personal Edition tokens are unaffected (1 hour)', () =>
    withCloud(
      async (c) => {
        c.e.state.addAccessKey(STATIC.ALIBABA_CLOUD_ACCESS_KEY_ID, STATIC.ALIBABA_CLOUD_ACCESS_KEY_SECRET, 'user/ci');
        const { token } = assertCredentials(await c.request(`${PE_HOST}/ns/app`, { env: STATIC }), c.e, { host: PE_HOST });
        assert.equal(token.expiresAt - token.issuedAt, HOUR);
      },
      { config: { cr: { tokenExpiresInHours: 12 } } },
    ));

  it('unset: the API default (1 hour)', () =>
    withCloud(async (c) => {
      c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      c.e.state.addAccessKey(STATIC.ALIBABA_CLOUD_ACCESS_KEY_ID, STATIC.ALIBABA_CLOUD_ACCESS_KEY_SECRET, 'user/ci');
      const { token } = assertCredentials(await c.request(`${HOST}/ns/app`, { env: STATIC }), c.e, { host: HOST });
      assert.equal(token.expiresAt - token.issuedAt, HOUR);
    }));

  it('out of range: one line naming the key, no cloud call', () =>
    withCloud(
      async (c) => {
        assertOneLineFailure(await c.request(`${HOST}/ns/app`), /cr\.tokenExpiresInHours: .*1 to 24/);
        assert.equal(c.e.calls().length, 0);
      },
      { config: { cr: { tokenExpiresInHours: 48 } } },
    ));
});
