// Per-ServiceAccount identity (KEP-4412 + ACK RRSA), end to end against the emulated cloud:
// the kubelet's SA token exchanged with STS AssumeRoleWithOIDC, the registry token fetched with
// those credentials, cached per ServiceAccount and never across ServiceAccounts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertCredentials, assertNoCredentials } from '../helpers/assert-response.ts';
import { count, eeHost, withCloud } from '../helpers/cloud.ts';
import { assertOneLineFailure, assertSuccess } from '../helpers/run-provider.ts';
import { crCalls, identityConfig, ROLE_ANNOTATION, saRequest, setUpRrsa, stsCalls } from './fixtures.ts';

const HOST = eeHost('acme');
const IMAGE = `${HOST}/team/app`;

function saEntry(extra: Record<string, unknown> = {}) {
  return { domains: [HOST], identity: 'serviceAccount', ...extra };
}

describe('identity: serviceAccount (RRSA through the kubelet\'s ServiceAccount token)', () => {
  it('exchanges the token for the annotated role and fetches the registry token with it', () =>
    withCloud(
      async (c) => {
        const { e } = c;
        const inst = e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
        const rrsa = setUpRrsa(c);
        const config = identityConfig(c, { serviceAccount: { oidcProviderArn: rrsa.provider.arn }, registries: [saEntry()] });
        const r = await c.run({ args: ['--config', config], stdin: saRequest(IMAGE, rrsa.token('team-a', 'app'), { [ROLE_ANNOTATION]: 'acr-puller' }) });
        const { token } = assertCredentials(r, e, { host: HOST });
        assert.equal(token.instanceId, inst.instanceId);
        assert.equal(token.identity, rrsa.role.identity, 'the token belongs to the ServiceAccount\'s role, not the node');
        const [call] = stsCalls(e, 'AssumeRoleWithOIDC');
        assert.equal(call?.status, 200);
        assert.equal(call?.wire, 'rpc-anonymous', 'AssumeRoleWithOIDC goes out in the RPC form of the official clients');
        assert.equal(call?.roleArn, rrsa.role.arn);
        assert.equal(call?.sessionName, 'team-a.app');
        assert.equal(call?.subject, 'system:serviceaccount:team-a:app');
        assert.equal(count(e, { server: 'imds' }), 0, 'the node identity is not used');
      },
      { sts: true },
    ));

  it('two ServiceAccounts never share a token; each second call is a cache hit', () =>
    withCloud(
      async (c) => {
        const { e } = c;
        e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
        const rrsa = setUpRrsa(c);
        const config = identityConfig(c, { serviceAccount: { oidcProviderArn: rrsa.provider.arn }, registries: [saEntry({ roleName: 'acr-puller' })] });
        const run = (ns: string, name: string) => c.run({ args: ['--config', config], stdin: saRequest(IMAGE, rrsa.token(ns, name)) });
        const a1 = assertCredentials(await run('team-a', 'app'), e, { host: HOST }).token;
        const b1 = assertCredentials(await run('team-a', 'other'), e, { host: HOST }).token;
        assert.notEqual(a1.password, b1.password, 'different ServiceAccounts get different passwords');
        assert.notEqual(a1.accessKeyId, b1.accessKeyId, 'from separate STS sessions');
        assert.equal(stsCalls(e, 'AssumeRoleWithOIDC').length, 2);
        const crBefore = crCalls(e).length;
        // Fresh tokens (a new TokenRequest) for the same ServiceAccounts: served from the cache.
        const a2 = assertSuccess(await run('team-a', 'app')).auth?.[HOST];
        const b2 = assertSuccess(await run('team-a', 'other')).auth?.[HOST];
        assert.equal(a2?.password, a1.password);
        assert.equal(b2?.password, b1.password);
        assert.equal(stsCalls(e).length, 2, 'no STS call on a hit');
        assert.equal(crCalls(e).length, crBefore, 'no CR call on a hit');
        // A ServiceAccount deleted and recreated under the same name has a new uid: a new identity.
        const a3 = assertSuccess(await c.run({ args: ['--config', config], stdin: saRequest(IMAGE, rrsa.token('team-a', 'app', { uid: '11111111-2222-4333-8444-555555555555' })) })).auth?.[HOST];
        assert.notEqual(a3?.password, a1.password);
        assert.equal(stsCalls(e, 'AssumeRoleWithOIDC').length, 3);
      },
      { sts: true },
    ));

  it('without a token: fallback deny (the default) answers "no credentials" and calls nothing', () =>
    withCloud(
      async (c) => {
        c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
        const rrsa = setUpRrsa(c);
        const config = identityConfig(c, { serviceAccount: { oidcProviderArn: rrsa.provider.arn }, registries: [saEntry()] });
        const r = await c.run({ args: ['--config', config], stdin: saRequest(IMAGE) });
        const response = assertNoCredentials(r);
        assert.equal(response.cacheDuration, '1m0s');
        assert.equal(c.e.calls().length, 0, 'no cloud call at all');
      },
      { sts: true },
    ));

  it('without a token: fallback node uses the node\'s RAM role', () =>
    withCloud(
      async (c) => {
        c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
        const rrsa = setUpRrsa(c);
        const config = identityConfig(c, { serviceAccount: { oidcProviderArn: rrsa.provider.arn }, registries: [saEntry({ fallback: 'node' })] });
        const r = await c.run({ args: ['--config', config], stdin: saRequest(IMAGE) });
        const { token } = assertCredentials(r, c.e, { host: HOST });
        assert.equal(token.identity, 'role/acr-node-role');
        assert.equal(stsCalls(c.e).length, 0);
      },
      { sts: true },
    ));

  it('a token whose ServiceAccount has no role annotation and no roleName falls back per policy', () =>
    withCloud(
      async (c) => {
        c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
        const rrsa = setUpRrsa(c);
        const config = identityConfig(c, { serviceAccount: { oidcProviderArn: rrsa.provider.arn }, registries: [saEntry()] });
        assertNoCredentials(await c.run({ args: ['--config', config], stdin: saRequest(IMAGE, rrsa.token('team-a', 'app')) }));
        assert.equal(c.e.calls().length, 0);
      },
      { sts: true },
    ));

  it('STS rejects a token for the wrong audience with a clear error', () =>
    withCloud(
      async (c) => {
        c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
        const rrsa = setUpRrsa(c);
        // The node is configured for "my-aud", which the cluster's OIDC provider does not accept.
        const config = identityConfig(c, { serviceAccount: { oidcProviderArn: rrsa.provider.arn, audience: 'my-aud' }, registries: [saEntry({ roleName: 'acr-puller' })] });
        const r = await c.run({ args: ['--config', config], stdin: saRequest(IMAGE, rrsa.token('team-a', 'app', { audience: 'my-aud' })) });
        assertOneLineFailure(r, /wrong audience \(AuthenticationFail\.OIDCToken\.AudienceNotMatch\).*serviceAccountTokenAudience/);
        assert.equal(stsCalls(c.e, 'AssumeRoleWithOIDC')[0]?.code, 'AuthenticationFail.OIDCToken.AudienceNotMatch');
        assert.equal(crCalls(c.e).length, 0);
      },
      { sts: true },
    ));

  it('a token for another audience than configured is refused before any call', () =>
    withCloud(
      async (c) => {
        const rrsa = setUpRrsa(c);
        const config = identityConfig(c, { serviceAccount: { oidcProviderArn: rrsa.provider.arn }, registries: [saEntry({ roleName: 'acr-puller' })] });
        const r = await c.run({ args: ['--config', config], stdin: saRequest(IMAGE, rrsa.token('team-a', 'app', { audience: 'kubernetes.default.svc' })) });
        assertOneLineFailure(r, /not for audience "sts\.aliyuncs\.com".*serviceAccountTokenAudience/);
        assert.equal(c.e.calls().length, 0);
      },
      { sts: true },
    ));

  it('a ServiceAccount outside the role\'s trust policy is refused by STS with a clear error', () =>
    withCloud(
      async (c) => {
        c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
        const rrsa = setUpRrsa(c, ['system:serviceaccount:team-b:*']);
        const config = identityConfig(c, { serviceAccount: { oidcProviderArn: rrsa.provider.arn }, registries: [saEntry({ roleName: 'acr-puller' })] });
        const r = await c.run({ args: ['--config', config], stdin: saRequest(IMAGE, rrsa.token('team-a', 'app')) });
        assertOneLineFailure(r, /ServiceAccount team-a\/app may not assume acs:ram::\d+:role\/acr-puller .*trust policy/);
      },
      { sts: true },
    ));

  it('a forged token (not signed by the cluster issuer) is refused by STS', () =>
    withCloud(
      async (c) => {
        c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
        const rrsa = setUpRrsa(c);
        const other = c.e.state.addOidcProvider({ name: 'other-cluster' });
        const config = identityConfig(c, { serviceAccount: { oidcProviderArn: rrsa.provider.arn }, registries: [saEntry({ roleName: 'acr-puller' })] });
        const r = await c.run({ args: ['--config', config], stdin: saRequest(IMAGE, rrsa.token('team-a', 'app', { signingKey: other.privateKey })) });
        assertOneLineFailure(r, /STS rejected the service account token of ServiceAccount team-a\/app \(AuthenticationFail\.OIDCToken\.InvalidSignature\)/);
      },
      { sts: true },
    ));

  it('token-echo guard: a credential equal to the ServiceAccount token is never returned', () =>
    withCloud(
      async (c) => {
        const rrsa = setUpRrsa(c);
        const token = rrsa.token('team-a', 'app');
        const { writeFileSync, chmodSync } = await import('node:fs');
        const file = `${c.dir}/echo.json`;
        writeFileSync(file, JSON.stringify({ username: 'x', password: token }));
        chmodSync(file, 0o600);
        const config = identityConfig(c, { registries: [{ domains: ['echo.example.com'], credentialFile: file }] });
        const r = await c.run({ args: ['--config', config], stdin: saRequest('echo.example.com/app', token) });
        assertOneLineFailure(r, /refusing to return the service account token/);
        assert.ok(!r.stderr.includes(token));
      },
      { sts: true },
    ));
});

describe('namespace scoping (namespaces / serviceAccounts of a registries entry)', () => {
  it('a token for namespace team-a gets nothing for a registry scoped to team-b; team-b does', () =>
    withCloud(
      async (c) => {
        c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
        const rrsa = setUpRrsa(c);
        const config = identityConfig(c, { registries: [{ domains: [HOST], namespaces: ['team-b'], serviceAccounts: ['team-c/builder'] }] });
        const run = (ns: string, name: string) => c.run({ args: ['--config', config], stdin: saRequest(IMAGE, rrsa.token(ns, name, { audience: 'kubelet-credential-provider' })) });
        assertNoCredentials(await run('team-a', 'app'));
        assert.equal(c.e.calls().length, 0, 'denied without any cloud call');
        // Node identity, scoped: team-b and the one listed ServiceAccount of team-c get credentials.
        assertCredentials(await run('team-b', 'app'), c.e, { host: HOST });
        assertSuccess(await run('team-c', 'builder'));
        assertNoCredentials(await run('team-c', 'other'));
        // No token at all: the namespace cannot be known, so nothing.
        assertNoCredentials(await c.run({ args: ['--config', config], stdin: saRequest(IMAGE) }));
      },
      { sts: true },
    ));

  it('scoping also applies to ServiceAccount identity', () =>
    withCloud(
      async (c) => {
        c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
        const rrsa = setUpRrsa(c);
        const config = identityConfig(c, { serviceAccount: { oidcProviderArn: rrsa.provider.arn }, registries: [saEntry({ roleName: 'acr-puller', namespaces: ['team-b'], fallback: 'node' })] });
        assertNoCredentials(await c.run({ args: ['--config', config], stdin: saRequest(IMAGE, rrsa.token('team-a', 'app')) }));
        assert.equal(c.e.calls().length, 0);
      },
      { sts: true },
    ));

  it('a malformed token is a one-line error that does not quote it', () =>
    withCloud(async (c) => {
      const config = identityConfig(c, { registries: [{ domains: [HOST], namespaces: ['team-b'] }] });
      const bogus = 'not-a-jwt-but-secret-looking-value';
      c.extraSecrets.push(bogus);
      const r = await c.run({ args: ['--config', config], stdin: saRequest(IMAGE, bogus) });
      assertOneLineFailure(r, /serviceAccountToken is unusable: it is not a JWT/);
    }, { sts: true }));
});
