// Cross-account pulls: a cluster in account A pulls from an instance in account B by assuming a
// role of B (AssumeRole signed with the node's identity, external id, session name), through
// the STS emulator. Instances belong to accounts: without the role, B's instance is invisible.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertCredentials } from '../helpers/assert-response.ts';
import { eeHost, withCloud } from '../helpers/cloud.ts';
import { assertOneLineFailure, assertSuccess } from '../helpers/run-provider.ts';
import { identityConfig, stsCalls } from './fixtures.ts';
import type { Cloud } from '../helpers/cloud.ts';

const ACCOUNT_B = '2222222222222222';
const HOST = eeHost('acme-b');
const IMAGE = `${HOST}/team/app`;

function accountB(c: Cloud, trust: { principals?: string[]; externalId?: string } = { principals: ['role/acr-node-role'], externalId: 'ext-4f2a9c' }) {
  const inst = c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme-b', accountId: ACCOUNT_B });
  const role = c.e.state.addRole({ name: 'acr-cross-pull', accountId: ACCOUNT_B, trust });
  return { inst, role };
}

describe('cross-account: assumeRole of a registries entry', () => {
  it('the node role assumes the role in account B and gets a token for B\'s instance', () =>
    withCloud(
      async (c) => {
        const { inst, role } = accountB(c);
        const config = identityConfig(c, { registries: [{ domains: [HOST], assumeRole: { roleArn: role.arn, externalId: 'ext-4f2a9c', sessionName: 'node-1', durationSeconds: 1800 } }] });
        const r = await c.request(IMAGE, { config });
        const { token } = assertCredentials(r, c.e, { host: HOST });
        assert.equal(token.instanceId, inst.instanceId);
        assert.equal(token.identity, role.identity);
        // The registry token dies with the 30-minute assumed session.
        assert.ok(token.expiresAt - token.issuedAt <= 1800_000);
        const [call] = stsCalls(c.e, 'AssumeRole');
        assert.equal(call?.status, 200);
        assert.equal(call?.sessionName, 'node-1');
        // A second call is a hit: no STS, no CR.
        const before = c.e.calls().length;
        assertCredentials(await c.request(IMAGE, { config }), c.e, { host: HOST });
        assert.equal(c.e.calls().length, before);
      },
      { sts: true },
    ));

  it('without assumeRole, account B\'s instance is not visible to the node: no credentials, and the info line says to add assumeRole', () =>
    withCloud(
      async (c) => {
        accountB(c);
        const r = await c.request(IMAGE, { args: ['--log-level', 'info'] });
        const response = assertSuccess(r);
        assert.equal(response.auth?.[HOST], undefined);
        assert.match(r.stderr, /no Enterprise Edition instance named "acme-b" in cn-hangzhou is visible to .*assumeRole/);
      },
      { sts: true },
    ));

  it('a node that is not in the role\'s trust policy gets a clear error', () =>
    withCloud(
      async (c) => {
        const { role } = accountB(c, { principals: ['role/someone-else'] });
        const config = identityConfig(c, { registries: [{ domains: [HOST], assumeRole: { roleArn: role.arn } }] });
        const r = await c.request(IMAGE, { config });
        assertOneLineFailure(r, /ECS instance's RAM role may not assume acs:ram::2222222222222222:role\/acr-cross-pull \(NoPermission\): add it as a principal to the role's trust policy/);
      },
      { sts: true },
    ));

  it('a wrong external id gets a clear error', () =>
    withCloud(
      async (c) => {
        const { role } = accountB(c);
        const config = identityConfig(c, { registries: [{ domains: [HOST], assumeRole: { roleArn: role.arn, externalId: 'wrong-id' } }] });
        const r = await c.request(IMAGE, { config });
        assertOneLineFailure(r, /the external id does not match the role's trust policy \(NoPermission\); set assumeRole\.externalId/);
      },
      { sts: true },
    ));

  it('a role that does not exist gets a clear error', () =>
    withCloud(
      async (c) => {
        accountB(c);
        const config = identityConfig(c, { registries: [{ domains: [HOST], assumeRole: { roleArn: `acs:ram::${ACCOUNT_B}:role/no-such-role` } }] });
        const r = await c.request(IMAGE, { config });
        assertOneLineFailure(r, /RAM role acs:ram::2222222222222222:role\/no-such-role does not exist \(EntityNotExist\.Role\)/);
      },
      { sts: true },
    ));

  it('an unreachable STS endpoint says so', () =>
    withCloud(
      async (c) => {
        const { role } = accountB(c);
        const config = identityConfig(c, { timeout: '3s', sts: { endpoint: 'http://127.0.0.1:1' }, registries: [{ domains: [HOST], assumeRole: { roleArn: role.arn, externalId: 'ext-4f2a9c' } }] });
        const r = await c.request(IMAGE, { config });
        assertOneLineFailure(r, /cannot reach STS at http:\/\/127\.0\.0\.1:1|deadline/);
      },
      { sts: true },
    ));
});
