// planIdentity and the ServiceAccount token claims it reads: pure decisions, tested by table.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfigFile } from '../../../src/config/schema.ts';
import { ProviderError } from '../../../src/errors.ts';
import { planIdentity, sessionNameFor, type IdentityConfig } from '../../../src/identity/request-identity.ts';
import { readServiceAccountClaims } from '../../../src/identity/sa-token.ts';

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const jwt = (claims: Record<string, unknown>): string => `${b64({ alg: 'RS256' })}.${b64(claims)}.c2ln`;
const k8s = (ns: string, name: string, uid = 'uid-1') => ({ namespace: ns, serviceaccount: { name, uid } });
const token = (ns: string, name: string, extra: Record<string, unknown> = {}) =>
  jwt({ sub: `system:serviceaccount:${ns}:${name}`, aud: 'sts.aliyuncs.com', exp: Math.floor(Date.now() / 1000) + 3600, 'kubernetes.io': k8s(ns, name), ...extra });

const CONFIG: IdentityConfig = {
  metadata: {},
  credentials: { source: 'auto' },
  serviceAccount: { oidcProviderArn: 'acs:ram::111:oidc-provider/ack-rrsa-c1', accountId: '111', audience: 'sts.aliyuncs.com', roleAnnotation: 'pod-identity.alibabacloud.com/role-name', durationSeconds: 3600 },
};
const req = (t?: string, annotations?: Record<string, string>) => ({ apiVersion: 'credentialprovider.kubelet.k8s.io/v1' as const, image: 'r.example.com/app', ...(t ? { serviceAccountToken: t } : {}), ...(annotations ? { serviceAccountAnnotations: annotations } : {}) });

describe('readServiceAccountClaims', () => {
  it('reads namespace, name, uid, issuer, audiences and expiry', () => {
    const c = readServiceAccountClaims(token('ns-a', 'app', { iss: 'https://issuer', aud: ['a', 'b'] }));
    assert.deepEqual({ ...c, expiresAt: typeof c.expiresAt }, { namespace: 'ns-a', name: 'app', uid: 'uid-1', issuer: 'https://issuer', audiences: ['a', 'b'], expiresAt: 'number' });
  });
  const bad: Array<[string, string, RegExp]> = [
    ['not a JWT', 'abc', /not a JWT/],
    ['payload not JSON', `${b64({})}.bm90IGpzb24.x`, /not JSON/],
    ['no subject', jwt({ aud: 'x' }), /names no ServiceAccount/],
    ['claims disagree', jwt({ sub: 'system:serviceaccount:a:b', 'kubernetes.io': k8s('other', 'b') }), /disagree/],
    ['no uid', jwt({ sub: 'system:serviceaccount:a:b' }), /no ServiceAccount uid/],
  ];
  for (const [name, t, want] of bad) {
    it(`refuses ${name}, never quoting the token`, () => {
      assert.throws(() => readServiceAccountClaims(t), (e: unknown) => e instanceof ProviderError && want.test(e.message) && !e.message.includes(t));
    });
  }
});

describe('planIdentity', () => {
  it('node identity by default, token or not', () => {
    assert.equal(planIdentity(req(), { domains: ['r'] }, CONFIG, {}).kind, 'node');
    assert.equal(planIdentity(req(token('a', 'b')), undefined, CONFIG, {}).kind, 'node');
  });

  it('serviceAccount: role from the annotation, ARN in the configured account, readable session name', () => {
    const p = planIdentity(req(token('ns-a', 'app'), { 'pod-identity.alibabacloud.com/role-name': 'puller' }), { domains: ['r'], identity: 'serviceAccount' }, CONFIG, {});
    assert.equal(p.kind, 'service-account');
    if (p.kind !== 'service-account') return;
    assert.equal(p.oidc.roleArn, 'acs:ram::111:role/puller');
    assert.equal(p.oidc.sessionName, 'ns-a.app');
    assert.match(p.id, /^sa-[0-9a-f]{32}$/);
  });

  it('different ServiceAccounts, uids or roles never share an identity id', () => {
    const entry = { domains: ['r'], identity: 'serviceAccount' as const, roleName: 'puller' };
    const id = (t: string, a?: Record<string, string>) => {
      const p = planIdentity(req(t, a), entry, CONFIG, {});
      return p.kind === 'service-account' ? p.id : p.kind;
    };
    const ids = [id(token('a', 'x')), id(token('a', 'y')), id(token('b', 'x')), id(token('a', 'x', { 'kubernetes.io': k8s('a', 'x', 'uid-2') })), id(token('a', 'x'), { 'pod-identity.alibabacloud.com/role-name': 'other' })];
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(id(token('a', 'x')), ids[0], 'stable for the same ServiceAccount');
  });

  it('no token: deny by default, node with fallback: node', () => {
    assert.equal(planIdentity(req(), { domains: ['r'], identity: 'serviceAccount' }, CONFIG, {}).kind, 'deny');
    assert.equal(planIdentity(req(), { domains: ['r'], identity: 'serviceAccount', fallback: 'node' }, CONFIG, {}).kind, 'node');
  });

  it('namespace scoping from the token claims', () => {
    const entry = { domains: ['r'], namespaces: ['b'], serviceAccounts: ['c/ci'] };
    assert.equal(planIdentity(req(token('a', 'x')), entry, CONFIG, {}).kind, 'deny');
    assert.equal(planIdentity(req(token('b', 'x')), entry, CONFIG, {}).kind, 'node');
    assert.equal(planIdentity(req(token('c', 'ci')), entry, CONFIG, {}).kind, 'node');
    assert.equal(planIdentity(req(token('c', 'other')), entry, CONFIG, {}).kind, 'deny');
    assert.equal(planIdentity(req(), entry, CONFIG, {}).kind, 'deny');
  });

  it('an annotation that is not a role name is refused', () => {
    assert.throws(() => planIdentity(req(token('a', 'x'), { 'pod-identity.alibabacloud.com/role-name': 'a b/../c' }), { domains: ['r'], identity: 'serviceAccount' }, CONFIG, {}), /not a RAM role name/);
  });

  it('session names keep to STS\'s alphabet and length', () => {
    const long = sessionNameFor({ namespace: 'n'.repeat(63), name: 's'.repeat(60) });
    assert.match(long, /^[A-Za-z0-9.@_-]{2,64}$/);
  });
});

describe('config schema: identity keys of a registries entry', () => {
  const ok = (registries: unknown) => validateConfigFile({ registries });
  it('accepts the documented shapes', () => {
    assert.ok(ok([{ domains: ['a.example.com'], identity: 'serviceAccount', roleName: 'r', fallback: 'node', namespaces: ['team-a'], serviceAccounts: ['team-b/ci'] }]).ok);
    assert.ok(ok([{ domains: ['a.example.com'], assumeRole: { roleArn: 'acs:ram::222:role/x', externalId: 'abc', sessionName: 'node-1', durationSeconds: 900 } }]).ok);
    assert.ok(ok([{ domains: ['crpi-x.cn-hangzhou.personal.cr.aliyuncs.com'], credentialFile: '/etc/x.json' }]).ok);
  });
  const bad: Array<[unknown, RegExp]> = [
    [[{ domains: ['a'], credentialFile: '/x', identity: 'serviceAccount' }], /credentialFile excludes/],
    [[{ domains: ['a'], fallback: 'node' }], /apply only to identity: serviceAccount/],
    [[{ domains: ['a'], identity: 'serviceAccount', roleName: 'r', roleArn: 'acs:ram::1:role/r' }], /not both/],
    [[{ domains: ['a'], assumeRole: { roleArn: 'arn:aws:iam::1:role/x' } }], /RAM role ARN/],
    [[{ domains: ['a'], credentialFile: 'relative.json' }], /absolute path/],
    [[{ domains: ['a'], serviceAccounts: ['no-slash'] }], /namespace\/serviceaccount/],
  ];
  for (const [registries, want] of bad) {
    it(`refuses ${JSON.stringify(registries)}`, () => {
      const r = ok(registries);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.problem, want);
    });
  }
});
