// The kubelet path end to end against the emulated cloud: Personal and Enterprise Edition hosts,
// all three protocol versions, other regions, VPC/intl domains, paging and custom domains.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertCredentials, DEFAULT_THRESHOLD_MS, MIN } from '../helpers/assert-response.ts';
import { count, eeHost, eeTokenCalls, PE_HOST, personalTokenCalls, withCloud } from '../helpers/cloud.ts';
import { API_VERSIONS, assertSuccess, parseResponse, writeConfig } from '../helpers/run-provider.ts';

describe('Personal Edition (registry.<region>.aliyuncs.com)', () => {
  for (const v of API_VERSIONS) {
    it(`answers a ${v} request with the issued token`, () =>
      withCloud(async ({ e, request }) => {
        const r = await request(`${PE_HOST}/ns/app`, { apiVersion: v });
        const { token, cacheMs } = assertCredentials(r, e, { host: PE_HOST, apiVersion: v, match: (t) => t.apiVersion === '2016-06-07' && t.instanceId === null });
        assert.equal(token.regionId, 'cn-hangzhou');
        // One hour tokens, 15 min threshold: a little under 45 minutes.
        assert.ok(cacheMs > 40 * MIN, `cacheDuration ${cacheMs}ms is implausibly short`);
        assert.equal(personalTokenCalls(e, 'cn-hangzhou'), 1);
        assert.equal(count(e, { server: 'cr', action: 'ListInstance' }), 0);
      }));
  }
});

describe('Enterprise Edition (<name>-registry.<region>.cr.aliyuncs.com)', () => {
  for (const v of API_VERSIONS) {
    it(`answers a ${v} request with a token for the named instance`, () =>
      withCloud(async ({ e, request }) => {
        e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'other' });
        const inst = e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
        const host = eeHost('acme');
        const r = await request(`${host}/ns/app`, { apiVersion: v });
        const { token, cacheMs } = assertCredentials(r, e, { host, apiVersion: v });
        assert.equal(token.apiVersion, '2018-12-01');
        assert.equal(token.instanceId, inst.instanceId);
        assert.ok(cacheMs > 40 * MIN);
        assert.equal(eeTokenCalls(e, 'cn-hangzhou'), 1);
      }));
  }
});

describe('cross-region hosts (node in cn-hangzhou)', () => {
  it('Personal Edition host in cn-shanghai calls the cn-shanghai CR endpoint', () =>
    withCloud(async ({ e, request }) => {
      const host = 'registry.cn-shanghai.aliyuncs.com';
      const r = await request(`${host}/ns/app`);
      const { token } = assertCredentials(r, e, { host });
      assert.equal(token.regionId, 'cn-shanghai');
      assert.equal(personalTokenCalls(e, 'cn-shanghai'), 1);
      assert.equal(count(e, { server: 'cr', region: 'cn-hangzhou' }), 0, 'no call to the node region');
    }));

  it('Enterprise Edition host in cn-beijing resolves and fetches in cn-beijing', () =>
    withCloud(async ({ e, request }) => {
      // Same name in the node's region: must not be picked.
      e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      const inst = e.state.addInstance({ regionId: 'cn-beijing', instanceName: 'acme' });
      const host = eeHost('acme', 'cn-beijing');
      const r = await request(`${host}/team/app`);
      const { token } = assertCredentials(r, e, { host });
      assert.equal(token.instanceId, inst.instanceId);
      assert.equal(token.regionId, 'cn-beijing');
      assert.equal(count(e, { server: 'cr', region: 'cn-beijing', action: 'ListInstance' }), 1);
      assert.equal(eeTokenCalls(e, 'cn-beijing'), 1);
      assert.equal(count(e, { server: 'cr', region: 'cn-hangzhou' }), 0);
    }));
});

describe('VPC and international domains', () => {
  const cases: Array<{ host: string; region: string; ee?: string }> = [
    { host: 'registry-vpc.cn-hangzhou.aliyuncs.com', region: 'cn-hangzhou' },
    { host: 'registry-intl.ap-southeast-1.aliyuncs.com', region: 'ap-southeast-1' },
    { host: 'registry-intl-vpc.ap-southeast-1.aliyuncs.com', region: 'ap-southeast-1' },
    { host: eeHost('acme', 'cn-shanghai', true), region: 'cn-shanghai', ee: 'acme' },
  ];
  for (const c of cases) {
    it(`${c.host} gets a token keyed by its own host`, () =>
      withCloud(async ({ e, request }) => {
        const inst = c.ee ? e.state.addInstance({ regionId: c.region, instanceName: c.ee }) : undefined;
        const r = await request(`${c.host}/ns/app`);
        const { token } = assertCredentials(r, e, { host: c.host });
        assert.equal(token.regionId, c.region);
        assert.equal(token.instanceId, inst ? inst.instanceId : null);
      }));
  }
});

describe('Enterprise Edition instance lookup pages through ListInstance', () => {
  it('finds "team" on page 3 of 75 instances, not "team-prod" or other look-alikes', () =>
    withCloud(async ({ e, request }) => {
      let wanted;
      for (let i = 0; i < 75; i++) {
        const name = i === 3 ? 'team-prod' : i === 20 ? 'my-team' : i === 41 ? 'team-2' : i === 66 ? 'team' : `svc-${i}-ns-a`;
        const inst = e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: name });
        if (name === 'team') wanted = inst;
      }
      assert.ok(wanted);
      const host = eeHost('team');
      const r = await request(`${host}/ns/app`);
      const { token } = assertCredentials(r, e, { host });
      assert.equal(token.instanceId, wanted.instanceId);
      // Page size 30: the instance (index 66) is on page 3; pages 1, 2, 3 and nothing more.
      assert.equal(count(e, { server: 'cr', action: 'ListInstance' }), 3);
      assert.equal(eeTokenCalls(e), 1);
    }));

  it('finds "team-prod" when "team" comes first', () =>
    withCloud(async ({ e, request }) => {
      e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'team' });
      for (let i = 0; i < 40; i++) e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: `svc-${i}` });
      const wanted = e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'team-prod' });
      const host = eeHost('team-prod');
      const { token } = assertCredentials(await request(`${host}/ns/app`), e, { host });
      assert.equal(token.instanceId, wanted.instanceId);
      assert.equal(count(e, { server: 'cr', action: 'ListInstance' }), 2);
    }));

  it('an unknown instance name (another account\'s, or a typo) answers no credentials for the registry, with an info line naming it; the miss is remembered', () =>
    withCloud(async ({ e, request }) => {
      e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      const host = eeHost('nosuch');
      const r = await request(`${host}/ns/app`, { args: ['--log-level', 'info'] });
      const response = assertSuccess(r);
      assert.equal(response.cacheKeyType, 'Registry');
      assert.equal(response.auth, undefined);
      assert.match(r.stderr, /instance named "nosuch"/);
      assert.equal(eeTokenCalls(e), 0);
      const listed = count(e, { server: 'cr', action: 'ListInstance' });
      assertSuccess(await request(`${host}/ns/app`));
      assert.equal(count(e, { server: 'cr', action: 'ListInstance' }), listed, 'negative result cached: no second page walk');
    }));
});

describe('custom domains from the config file', () => {
  it('without instanceId: discovered through ListInstanceEndpoint (USER domain) in the node region', () =>
    withCloud(async ({ e, dir, request }) => {
      e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'first', userDomains: ['other.example.com'] });
      const inst = e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'second', userDomains: ['images.acme.example'] });
      e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'third' });
      const config = writeConfig(dir, e, { registries: [{ domains: ['images.acme.example'] }] }, 'custom.json');
      const host = 'images.acme.example';
      const r = await request(`${host}/ns/app`, { config });
      const { token } = assertCredentials(r, e, { host });
      assert.equal(token.instanceId, inst.instanceId);
      assert.equal(token.regionId, 'cn-hangzhou');
      assert.ok(count(e, { server: 'cr', action: 'ListInstance' }) >= 1);
      assert.ok(count(e, { server: 'cr', action: 'ListInstanceEndpoint' }) >= 1);
      assert.equal(count(e, { server: 'imds', action: '/latest/meta-data/region-id' }), 1, 'node region from IMDS');
    }));

  it('with instanceId and regionId: no ListInstance at all, token from that region', () =>
    withCloud(async ({ e, dir, request }) => {
      const inst = e.state.addInstance({ regionId: 'cn-shanghai', instanceName: 'corp' });
      const host = 'registry.corp.example:5000';
      const config = writeConfig(dir, e, { registries: [{ domains: [host], instanceId: inst.instanceId, regionId: 'cn-shanghai' }] }, 'custom.json');
      const r = await request(`${host}/ns/app`, { config });
      const { token } = assertCredentials(r, e, { host });
      assert.equal(token.instanceId, inst.instanceId);
      assert.equal(token.regionId, 'cn-shanghai');
      assert.equal(count(e, { server: 'cr', action: 'ListInstance' }), 0);
      assert.equal(count(e, { server: 'cr', action: 'ListInstanceEndpoint' }), 0);
      assert.equal(count(e, { server: 'imds', action: '/latest/meta-data/region-id' }), 0);
    }));
});

describe('metadata service modes', () => {
  it('hardened-only metadata (tokens required) works', () =>
    withCloud(
      async ({ e, request }) => {
        const r = await request(`${PE_HOST}/ns/app`);
        assertCredentials(r, e, { host: PE_HOST });
        const imds = e.calls({ server: 'imds' });
        assert.ok(imds.some((c) => c.path === '/latest/api/token' && c.status === 200), 'a session token was fetched');
        assert.ok(imds.every((c) => c.code !== 'TokenRequired'), 'never asked without a token');
      },
      { imdsMode: 'required' },
    ));

  it('metadata without the token API works through the v1 fallback', () =>
    withCloud(
      async ({ e, request }) => {
        const r = await request(`${PE_HOST}/ns/app`);
        assertCredentials(r, e, { host: PE_HOST });
        assert.ok(e.calls({ server: 'imds' }).some((c) => c.path.startsWith('/latest/meta-data/ram/security-credentials/') && c.status === 200));
      },
      { imdsMode: 'unsupported' },
    ));

  it('metadata without the token API and ALIBABA_CLOUD_IMDSV1_DISABLED=true fails with one clear line', () =>
    withCloud(
      async ({ e, request }) => {
        const r = await request(`${PE_HOST}/ns/app`, { env: { ALIBABA_CLOUD_IMDSV1_DISABLED: 'true' } });
        assert.notEqual(r.code, 0);
        assert.equal(r.stdout, '');
        const lines = r.stderr.split('\n').filter(Boolean);
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0] ?? '', /hardened/i);
        assert.match(lines[0] ?? '', /IMDSv1/);
        assert.equal(count(e, { server: 'cr' }), 0);
        assert.equal(
          e.calls({ server: 'imds' }).filter((c) => c.path !== '/latest/api/token').length,
          0,
          'no tokenless metadata request once v1 is disabled',
        );
      },
      { imdsMode: 'unsupported' },
    ));

  it('the metadata endpoint can come from ALIBABA_CLOUD_IMDS_ENDPOINT', () =>
    withCloud(async ({ e, dir, request }) => {
      const config = writeConfig(dir, e, {}, 'no-imds.json');
      // Point the file at a dead endpoint; the environment must win over the file.
      const { readFileSync, writeFileSync } = await import('node:fs');
      const doc = JSON.parse(readFileSync(config, 'utf8')) as { metadata: { endpoint: string } };
      doc.metadata.endpoint = 'http://127.0.0.1:9';
      writeFileSync(config, JSON.stringify(doc));
      const r = await request(`${PE_HOST}/ns/app`, { config, env: { ALIBABA_CLOUD_IMDS_ENDPOINT: e.imds.url } });
      assertCredentials(r, e, { host: PE_HOST });
    }));
});

describe('static AccessKey from the environment', () => {
  it('uses ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET instead of the metadata service', () =>
    withCloud(async (c) => {
      const { e, request } = c;
      e.state.addAccessKey('LTAIbbtestkey0001', 'bb-static-secret-0123456789', 'user/ci');
      c.extraSecrets.push('bb-static-secret-0123456789');
      const r = await request(`${PE_HOST}/ns/app`, { env: { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIbbtestkey0001', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'bb-static-secret-0123456789' } });
      const { token } = assertCredentials(r, e, { host: PE_HOST });
      assert.equal(token.identity, 'user/ci');
      assert.equal(count(e, { server: 'imds' }), 0);
      // A different identity never shares the role's cache entry.
      const viaRole = await request(`${PE_HOST}/ns/app`);
      const roleToken = assertCredentials(viaRole, e, { host: PE_HOST }).token;
      assert.equal(roleToken.identity, 'role/acr-node-role');
      assert.notEqual(roleToken.password, token.password);
      assert.equal(parseResponse(viaRole.stdout).auth?.[PE_HOST]?.password, roleToken.password);
      assertSuccess(viaRole);
    }));
});
