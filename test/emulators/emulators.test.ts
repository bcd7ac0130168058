// Proves the emulators are honest: real openapi-client calls (V3 and legacy v1 signatures)
// succeed, and everything the real cloud rejects is rejected with the real codes.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { startEmulators } from './index.ts';
import { sharedEmulators } from '../helpers/shared-emulators.ts';
import { callPersonalTokens, callRpc, crClient, sdkError } from './sdk-client.ts';
import type { TestCredentials } from './sdk-client.ts';
import { acsDate, canonicalQueryString, percentEncode, signAcs3Request } from './signature-v3.ts';

const ROLE_CREDS_PATH = '/latest/meta-data/ram/security-credentials/acr-node-role';

const e = sharedEmulators();
const ep = (region: string): string => {
  const url = e.cr.endpoints()[region];
  assert.ok(url, `no endpoint for ${region}`);
  return url;
};

async function imdsCredentials(): Promise<TestCredentials & { expiration: string }> {
  const res = await fetch(e.imds.url + ROLE_CREDS_PATH);
  assert.equal(res.status, 200);
  const doc = (await res.json()) as Record<string, string>;
  return { accessKeyId: doc.AccessKeyId ?? '', accessKeySecret: doc.AccessKeySecret ?? '', securityToken: doc.SecurityToken ?? '', expiration: doc.Expiration ?? '' };
}

/** Sends a hand-signed V3 request with node:http (so the wire is exactly what we signed). */
function rawRequest(
  endpointUrl: string,
  req: { method: string; path: string; query: Record<string, string>; headers: Record<string, string>; body?: string },
): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = new URL(endpointUrl);
  const qs = new URLSearchParams(req.query).toString();
  return new Promise((resolve, reject) => {
    const r = request(
      { host: url.hostname, port: url.port, method: req.method, path: req.path + (qs ? `?${qs}` : ''), headers: req.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> }));
      },
    );
    r.on('error', reject);
    r.end(req.body ?? '');
  });
}

function signedListInstance(endpointUrl: string, creds: TestCredentials, opts: { nonce?: string; date?: string; secret?: string } = {}) {
  const host = new URL(endpointUrl).host;
  const query = { PageNo: '1' };
  const headers = signAcs3Request(
    { method: 'POST', path: '/', query, headers: { host, 'x-acs-action': 'ListInstance', 'x-acs-version': '2018-12-01' }, body: '' },
    {
      accessKeyId: creds.accessKeyId,
      accessKeySecret: opts.secret ?? creds.accessKeySecret,
      ...(creds.securityToken ? { securityToken: creds.securityToken } : {}),
      ...(opts.nonce ? { nonce: opts.nonce } : {}),
      ...(opts.date ? { date: opts.date } : {}),
    },
  );
  return { method: 'POST', path: '/', query, headers };
}

describe('signature-v3 helpers', () => {
  it('percent-encodes per RFC 3986 with Alibaba specifics', () => {
    assert.equal(percentEncode("a b*~!'()/+=ü"), "a%20b%2A~%21%27%28%29%2F%2B%3D%C3%BC");
  });
  it('sorts and encodes the canonical query', () => {
    assert.equal(canonicalQueryString({ b: '2', a: 'x y', 'a*': '' }), 'a=x%20y&a%2A=&b=2');
  });
});

describe('CR API with the real openapi-client (V3 signature)', () => {
  it('GetAuthorizationToken with IMDS STS credentials', async () => {
    const inst = e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'gat-test' });
    const creds = await imdsCredentials();
    const res = await callRpc(crClient(ep('cn-hangzhou'), creds), 'GetAuthorizationToken', { InstanceId: inst.instanceId });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body.IsSuccess, true);
    assert.equal(res.body.Code, 'success');
    assert.equal(res.body.TempUsername, 'cr_temp_user');
    assert.equal(typeof res.body.AuthorizationToken, 'string');
    assert.equal(typeof res.body.ExpireTime, 'number');
    const issued = e.state.issuedTokens().find((t) => t.password === res.body.AuthorizationToken);
    assert.ok(issued);
    assert.equal(issued.instanceId, inst.instanceId);
    assert.equal(issued.identity, 'role/acr-node-role');
    assert.equal(issued.expiresAt, res.body.ExpireTime);
    assert.ok(e.state.validateRegistryToken('cr_temp_user', String(res.body.AuthorizationToken)));
    const [call] = e.calls({ server: 'cr', action: 'GetAuthorizationToken' });
    assert.deepEqual(
      { region: call?.region, apiVersion: call?.apiVersion, status: call?.status, ak: call?.accessKeyId },
      { region: 'cn-hangzhou', apiVersion: '2018-12-01', status: 200, ak: creds.accessKeyId },
    );
  });

  it('ListInstance pages through the region only, with a substring InstanceName filter', async () => {
    for (const n of ['page-a', 'page-b', 'page-c', 'page-ab', 'other']) e.state.addInstance({ regionId: 'cn-beijing', instanceName: n });
    e.state.addInstance({ regionId: 'cn-shanghai', instanceName: 'page-elsewhere' });
    const client = crClient(ep('cn-beijing'), await imdsCredentials());
    const seen: string[] = [];
    for (let pageNo = 1; pageNo <= 3; pageNo++) {
      const res = await callRpc(client, 'ListInstance', { PageNo: String(pageNo), PageSize: '2' });
      assert.equal(res.body.TotalCount, 5);
      assert.equal(res.body.PageNo, pageNo);
      const items = res.body.Instances as { InstanceName: string; InstanceId: string; RegionId: string; InstanceStatus: string }[];
      assert.equal(items.length, pageNo === 3 ? 1 : 2);
      for (const i of items) {
        assert.match(i.InstanceId, /^cri-[a-z0-9]+$/);
        assert.equal(i.RegionId, 'cn-beijing');
        assert.equal(i.InstanceStatus, 'RUNNING');
        seen.push(i.InstanceName);
      }
    }
    assert.deepEqual(seen.sort(), ['other', 'page-a', 'page-ab', 'page-b', 'page-c']);
    const filtered = await callRpc(client, 'ListInstance', { InstanceName: 'page-a' });
    assert.equal(filtered.body.PageSize, 30);
    assert.deepEqual((filtered.body.Instances as { InstanceName: string }[]).map((i) => i.InstanceName).sort(), ['page-a', 'page-ab']);
  });

  it('ListInstanceEndpoint returns SYSTEM and USER domains for internet and vpc', async () => {
    const inst = e.state.addInstance({ regionId: 'cn-shanghai', instanceName: 'ep-test', userDomains: ['reg.example.com'] });
    const res = await callRpc(crClient(ep('cn-shanghai'), await imdsCredentials()), 'ListInstanceEndpoint', { InstanceId: inst.instanceId, ModuleName: 'Registry' });
    assert.equal(res.body.IsSuccess, true);
    const endpoints = res.body.Endpoints as { EndpointType: string; Enable: boolean; Domains: { Domain: string; Type: string }[] }[];
    assert.deepEqual(
      endpoints.map((x) => [x.EndpointType, x.Enable, x.Domains.map((d) => `${d.Type}:${d.Domain}`)]),
      [
        ['internet', true, ['SYSTEM:ep-test-registry.cn-shanghai.cr.aliyuncs.com', 'USER:reg.example.com']],
        ['vpc', true, ['SYSTEM:ep-test-registry-vpc.cn-shanghai.cr.aliyuncs.com', 'USER:reg.example.com']],
      ],
    );
  });

  it('GET /tokens (2016-06-07 ROA) returns the personal-edition token shape', async () => {
    const res = await callPersonalTokens(crClient(ep('ap-southeast-1'), await imdsCredentials()));
    const data = res.body.data as Record<string, unknown>;
    assert.equal(data.tempUserName, 'cr_temp_user');
    assert.equal(typeof data.authorizationToken, 'string');
    assert.equal(typeof data.expireDate, 'number');
    assert.equal(typeof res.body.requestId, 'string');
    const [call] = e.calls({ action: 'GetAuthorizationToken', region: 'ap-southeast-1' });
    assert.equal(call?.apiVersion, '2016-06-07');
    assert.equal(e.state.issuedTokens().find((t) => t.password === data.authorizationToken)?.instanceId, null);
  });

  it('query values with reserved characters survive canonicalization', async () => {
    const res = await callRpc(crClient(ep('cn-hangzhou'), await imdsCredentials()), 'ListInstance', { InstanceName: "a b*~!'()ü+/=&" });
    assert.equal(res.body.TotalCount, 0);
  });

  it('unknown instance: 200 IsSuccess:false INSTANCE_NOT_EXIST, or 404 when configured', async () => {
    const client = crClient(ep('cn-hangzhou'), await imdsCredentials());
    const res = await callRpc(client, 'GetAuthorizationToken', { InstanceId: 'cri-doesnotexist' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body.IsSuccess, false);
    assert.equal(res.body.Code, 'INSTANCE_NOT_EXIST');
    // An instance of another region is not visible on this regional endpoint.
    const sh = e.state.addInstance({ regionId: 'cn-shanghai', instanceName: 'wrong-region' });
    assert.equal((await callRpc(client, 'ListInstanceEndpoint', { InstanceId: sh.instanceId })).body.Code, 'INSTANCE_NOT_EXIST');
    e.state.instanceNotFoundStatus = 404;
    try {
      const err = await sdkError(callRpc(client, 'GetAuthorizationToken', { InstanceId: 'cri-doesnotexist' }));
      assert.equal(err.statusCode, 404);
      assert.equal(err.code, 'INSTANCE_NOT_EXIST');
    } finally {
      e.state.instanceNotFoundStatus = 200;
    }
  });

  it('missing InstanceId and unknown action are rejected', async () => {
    const client = crClient(ep('cn-hangzhou'), await imdsCredentials());
    assert.equal((await sdkError(callRpc(client, 'GetAuthorizationToken'))).code, 'MissingInstanceId');
    const err = await sdkError(callRpc(client, 'DeleteInstance', { InstanceId: 'cri-x' }));
    assert.equal(err.statusCode, 404);
    assert.equal(err.code, 'InvalidAction.NotFound');
  });

  it('legacy v1 (HMAC-SHA1) RPC signature is accepted too', async () => {
    const inst = e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'v1-test' });
    const client = crClient(ep('cn-hangzhou'), await imdsCredentials(), { signatureAlgorithm: 'v2' });
    const res = await callRpc(client, 'GetAuthorizationToken', { InstanceId: inst.instanceId });
    assert.equal(res.body.IsSuccess, true);
    const bad = crClient(ep('cn-hangzhou'), { ...(await imdsCredentials()), accessKeySecret: 'wrong' }, { signatureAlgorithm: 'v2' });
    assert.equal((await sdkError(callRpc(bad, 'ListInstance'))).code, 'SignatureDoesNotMatch');
  });
});

describe('CR API authentication and authorization', () => {
  it('wrong secret → 400 SignatureDoesNotMatch (logged with the AccessKeyId)', async () => {
    const creds = await imdsCredentials();
    const err = await sdkError(callRpc(crClient(ep('cn-hangzhou'), { ...creds, accessKeySecret: 'not-the-secret' }), 'ListInstance'));
    assert.equal(err.statusCode, 400);
    assert.equal(err.code, 'SignatureDoesNotMatch');
    const [call] = e.calls({ server: 'cr', action: 'ListInstance' });
    assert.equal(call?.status, 400);
    assert.equal(call?.code, 'SignatureDoesNotMatch');
    assert.equal(call?.accessKeyId, creds.accessKeyId);
  });

  it('unknown AccessKeyId → 404 InvalidAccessKeyId.NotFound', async () => {
    const err = await sdkError(callRpc(crClient(ep('cn-hangzhou'), { accessKeyId: 'LTAI-nobody', accessKeySecret: 'x' }), 'ListInstance'));
    assert.equal(err.statusCode, 404);
    assert.equal(err.code, 'InvalidAccessKeyId.NotFound');
  });

  it('static AccessKey pairs work without a security token', async () => {
    e.state.addAccessKey('LTAI-static-1', 'static-secret', 'user/ci');
    const res = await callRpc(crClient(ep('cn-hangzhou'), { accessKeyId: 'LTAI-static-1', accessKeySecret: 'static-secret' }), 'ListInstance');
    assert.equal(res.body.IsSuccess, true);
    const inst = e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'static-test' });
    const tok = await callRpc(crClient(ep('cn-hangzhou'), { accessKeyId: 'LTAI-static-1', accessKeySecret: 'static-secret' }), 'GetAuthorizationToken', { InstanceId: inst.instanceId });
    const issued = e.state.issuedTokens().at(-1);
    assert.equal(issued?.identity, 'user/ci');
    assert.equal(tok.body.ExpireTime, (issued?.issuedAt ?? 0) + 3600_000);
  });

  it('STS keys need their own security token', async () => {
    const creds = await imdsCredentials();
    const missing = await sdkError(callRpc(crClient(ep('cn-hangzhou'), { ...creds, securityToken: '' }), 'ListInstance'));
    assert.equal(missing.code, 'MissingSecurityToken');
    const wrong = await sdkError(callRpc(crClient(ep('cn-hangzhou'), { ...creds, securityToken: 'CAISforged' }), 'ListInstance'));
    assert.equal(wrong.code, 'InvalidSecurityToken.MismatchWithAccessKey');
  });

  it('expired STS credentials → InvalidSecurityToken.Expired; IMDS then rotates', async () => {
    const creds = await imdsCredentials();
    e.state.expireSts(creds.accessKeyId);
    const err = await sdkError(callRpc(crClient(ep('cn-hangzhou'), creds), 'ListInstance'));
    assert.equal(err.statusCode, 400);
    assert.equal(err.code, 'InvalidSecurityToken.Expired');
    const fresh = await imdsCredentials();
    assert.notEqual(fresh.accessKeyId, creds.accessKeyId);
    assert.equal((await callRpc(crClient(ep('cn-hangzhou'), fresh), 'ListInstance')).body.IsSuccess, true);
  });

  it('a replayed nonce is rejected with SignatureNonceUsed, even on another region', async () => {
    const creds = await imdsCredentials();
    const req = signedListInstance(ep('cn-hangzhou'), creds, { nonce: 'fixed-nonce-for-replay-test' });
    assert.equal((await rawRequest(ep('cn-hangzhou'), req)).status, 200);
    const replay = await rawRequest(ep('cn-hangzhou'), req);
    assert.equal(replay.status, 400);
    assert.equal(replay.body.Code, 'SignatureNonceUsed');
  });

  it('tampering, stale dates and unsigned x-acs headers are rejected', async () => {
    const creds = await imdsCredentials();
    const url = ep('cn-hangzhou');
    const tampered = signedListInstance(url, creds);
    assert.equal((await rawRequest(url, { ...tampered, query: { PageNo: '2' } })).body.Code, 'SignatureDoesNotMatch');
    const withBody = signedListInstance(url, creds);
    assert.equal((await rawRequest(url, { ...withBody, body: 'extra' })).body.Code, 'ContentSHA256Mismatch');
    const stale = signedListInstance(url, creds, { date: acsDate(Date.now() - 20 * 60_000) });
    assert.equal((await rawRequest(url, stale)).body.Code, 'InvalidTimeStamp.Expired');
    const extra = signedListInstance(url, creds);
    assert.equal((await rawRequest(url, { ...extra, headers: { ...extra.headers, 'x-acs-unsigned': '1' } })).body.Code, 'IncompleteSignature');
    const { authorization: _drop, ...noAuth } = signedListInstance(url, creds).headers;
    const missing = await rawRequest(url, { method: 'POST', path: '/', query: { PageNo: '1' }, headers: noAuth });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.Code, 'MissingAuthorization');
  });

  it('a denied action → 403 Forbidden.RAM with AccessDeniedDetail', async () => {
    e.state.denyAction('role/acr-node-role', 'ListInstanceEndpoint');
    try {
      const err = await sdkError(callRpc(crClient(ep('cn-hangzhou'), await imdsCredentials()), 'ListInstanceEndpoint', { InstanceId: 'cri-any' }));
      assert.equal(err.statusCode, 403);
      assert.equal(err.code, 'Forbidden.RAM');
      assert.equal(err.accessDeniedDetail?.AuthAction, 'cr:ListInstanceEndpoint');
      assert.equal(err.accessDeniedDetail?.NoPermissionType, 'ImplicitDeny');
      assert.equal(err.accessDeniedDetail?.AuthPrincipalType, 'AssumedRoleUser');
      // Other actions are still allowed.
      assert.equal((await callRpc(crClient(ep('cn-hangzhou'), await imdsCredentials()), 'ListInstance')).body.IsSuccess, true);
    } finally {
      e.state.allowAction('role/acr-node-role');
    }
  });
});

describe('token lifetimes', () => {
  it('registry token expiry never exceeds the STS expiry', async () => {
    e.state.setStsLifetime(20 * 60_000);
    e.state.setStsRotateBefore(0);
    try {
      e.state.expireSts(); // force IMDS to issue a session with the short lifetime
      const creds = await imdsCredentials();
      const stsExpiry = Date.parse(creds.expiration);
      const inst = e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'lifetime-test' });
      const client = crClient(ep('cn-hangzhou'), creds);
      const ee = await callRpc(client, 'GetAuthorizationToken', { InstanceId: inst.instanceId, ExpiresInHours: '24' });
      const pe = await callPersonalTokens(client);
      // Expiration is printed without milliseconds.
      assert.equal(Math.floor(Number(ee.body.ExpireTime) / 1000), stsExpiry / 1000);
      assert.equal(Math.floor(Number((pe.body.data as Record<string, unknown>).expireDate) / 1000), stsExpiry / 1000);
      for (const t of e.state.issuedTokens()) {
        const caller = e.state.lookupAccessKey(t.accessKeyId);
        if (caller?.expiresAt !== undefined) assert.ok(t.expiresAt <= caller.expiresAt);
      }
    } finally {
      e.state.setStsLifetime(6 * 3600_000);
      e.state.setStsRotateBefore(30 * 60_000);
      e.state.expireSts();
    }
  });

  it('token lifetime is configurable (default 1 h)', async () => {
    e.state.addAccessKey('LTAI-static-2', 'secret-2', 'user/ci2');
    e.state.setTokenLifetime(10 * 60_000);
    try {
      const inst = e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'ttl-test' });
      const res = await callRpc(crClient(ep('cn-hangzhou'), { accessKeyId: 'LTAI-static-2', accessKeySecret: 'secret-2' }), 'GetAuthorizationToken', { InstanceId: inst.instanceId });
      const issued = e.state.issuedTokens().at(-1);
      assert.equal(res.body.ExpireTime, (issued?.issuedAt ?? 0) + 10 * 60_000);
    } finally {
      e.state.setTokenLifetime(3600_000);
    }
  });

  it('IMDS keeps the same STS credentials until 30 min before expiry, then rotates', async () => {
    e.state.expireSts();
    const first = await imdsCredentials();
    assert.match(first.accessKeyId, /^STS\./);
    assert.match(first.expiration, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    e.state.advanceClock(5 * 3600_000); // 1 h left: still the same
    try {
      assert.equal((await imdsCredentials()).accessKeyId, first.accessKeyId);
      e.state.advanceClock(31 * 60_000); // 29 min left: rotate
      const second = await imdsCredentials();
      assert.notEqual(second.accessKeyId, first.accessKeyId);
      // The old session stays valid until it expires.
      assert.equal((await callRpc(crClient(ep('cn-hangzhou'), first), 'ListInstance')).body.IsSuccess, true);
    } finally {
      e.state.advanceClock(-(5 * 3600_000 + 31 * 60_000));
      e.state.expireSts();
    }
  });
});

describe('IMDS', () => {
  const put = (ttl?: string) => fetch(e.imds.url + '/latest/api/token', { method: 'PUT', headers: ttl === undefined ? {} : { 'X-aliyun-ecs-metadata-token-ttl-seconds': ttl } });
  const get = (path: string, token?: string) => fetch(e.imds.url + path, { headers: token === undefined ? {} : { 'X-aliyun-ecs-metadata-token': token } });

  it('optional mode: token and tokenless GETs both work; credentials look real', async () => {
    const tokenRes = await put('21600');
    assert.equal(tokenRes.status, 200);
    const token = await tokenRes.text();
    assert.equal(await (await get('/latest/meta-data/region-id', token)).text(), 'cn-hangzhou');
    assert.equal(await (await get('/latest/meta-data/region-id')).text(), 'cn-hangzhou');
    assert.equal(await (await get('/latest/meta-data/ram/security-credentials/', token)).text(), 'acr-node-role');
    const doc = (await (await get(ROLE_CREDS_PATH, token)).json()) as Record<string, string>;
    assert.deepEqual(Object.keys(doc).sort(), ['AccessKeyId', 'AccessKeySecret', 'Code', 'Expiration', 'LastUpdated', 'SecurityToken']);
    assert.equal(doc.Code, 'Success');
    assert.match(doc.LastUpdated ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });

  it('rejects bad TTLs and unknown tokens', async () => {
    for (const ttl of [undefined, '0', '21601', 'abc']) assert.equal((await put(ttl)).status, 400, `ttl ${ttl}`);
    assert.equal((await put('1')).status, 200);
    assert.equal((await get('/latest/meta-data/region-id', 'forged')).status, 401);
  });

  it('expired tokens → 401', async () => {
    const token = await (await put('60')).text();
    e.state.advanceClock(61_000);
    try {
      assert.equal((await get('/latest/meta-data/region-id', token)).status, 401);
    } finally {
      e.state.advanceClock(-61_000);
    }
  });

  it('required mode: tokenless GET → 403, token GET works', async () => {
    e.imds.setMode('required');
    try {
      assert.equal((await get(ROLE_CREDS_PATH)).status, 403);
      const token = await (await put('300')).text();
      assert.equal((await get(ROLE_CREDS_PATH, token)).status, 200);
    } finally {
      e.imds.setMode('optional');
    }
  });

  it('unsupported mode: PUT token → 404, tokenless GETs work', async () => {
    e.imds.setMode('unsupported');
    try {
      assert.equal((await put('300')).status, 404);
      assert.equal((await get(ROLE_CREDS_PATH)).status, 200);
    } finally {
      e.imds.setMode('optional');
    }
  });

  it('no role → 404; unknown role → 404; region can change', async () => {
    assert.equal((await get('/latest/meta-data/ram/security-credentials/other-role')).status, 404);
    e.imds.setRole(null);
    e.imds.setRegion('cn-beijing');
    try {
      assert.equal((await get('/latest/meta-data/ram/security-credentials/')).status, 404);
      assert.equal((await get(ROLE_CREDS_PATH)).status, 404);
      assert.equal(await (await get('/latest/meta-data/region-id')).text(), 'cn-beijing');
    } finally {
      e.imds.setRole('acr-node-role');
      e.imds.setRegion('cn-hangzhou');
    }
  });
});

describe('faults', () => {
  it('throttle fires exactly `times` times', async () => {
    const client = crClient(ep('cn-hangzhou'), await imdsCredentials());
    e.cr.injectFault('ListInstance', { throttle: true, times: 2 });
    for (let i = 0; i < 2; i++) {
      const err = await sdkError(callRpc(client, 'ListInstance'));
      assert.equal(err.statusCode, 400);
      assert.equal(err.code, 'Throttling.User');
      assert.match(err.message, /Request was denied due to user flow control\./);
    }
    assert.equal((await callRpc(client, 'ListInstance')).body.IsSuccess, true);
    assert.deepEqual(e.calls({ action: 'ListInstance' }).map((c) => [c.status, c.faulted ?? false]), [[400, true], [400, true], [200, false]]);
  });

  it('region-scoped and wildcard faults', async () => {
    const creds = await imdsCredentials();
    e.cr.injectFault('*', { status: 503 }, 'cn-shanghai');
    assert.equal((await callRpc(crClient(ep('cn-hangzhou'), creds), 'ListInstance')).statusCode, 200);
    const err = await sdkError(callRpc(crClient(ep('cn-shanghai'), creds), 'ListInstance'));
    assert.equal(err.statusCode, 503);
    assert.equal(err.code, 'ServiceUnavailable');
    assert.equal((await callRpc(crClient(ep('cn-shanghai'), creds), 'ListInstance')).statusCode, 200);
  });

  it('isSuccessFalse, malformedJson, resetConnection, custom status', async () => {
    const client = crClient(ep('cn-hangzhou'), await imdsCredentials());
    e.cr.injectFault('GetAuthorizationToken', { isSuccessFalse: { code: 'INSTANCE_NOT_EXIST' } });
    const res = await callRpc(client, 'GetAuthorizationToken', { InstanceId: 'cri-x' });
    assert.deepEqual([res.statusCode, res.body.IsSuccess, res.body.Code], [200, false, 'INSTANCE_NOT_EXIST']);
    e.cr.injectFault('/tokens', { malformedJson: true });
    await assert.rejects(callPersonalTokens(client));
    e.cr.injectFault('ListInstance', { resetConnection: true });
    await assert.rejects(callRpc(client, 'ListInstance'), (err: Error) => /socket hang up|ECONNRESET/i.test(err.message));
    e.cr.injectFault('ListInstance', { status: 500, code: 'InternalError', message: 'boom' });
    const err = await sdkError(callRpc(client, 'ListInstance'));
    assert.deepEqual([err.statusCode, err.code], [500, 'InternalError']);
    assert.equal(e.state.faults.pending('cr'), 0);
  });

  it('delayMs: slow answer arrives, or the client times out', async () => {
    const client = crClient(ep('cn-hangzhou'), await imdsCredentials());
    e.cr.injectFault('ListInstance', { delayMs: 300 });
    const t0 = Date.now();
    assert.equal((await callRpc(client, 'ListInstance')).statusCode, 200);
    assert.ok(Date.now() - t0 >= 290);
    e.cr.injectFault('ListInstance', { delayMs: 2000 });
    await assert.rejects(callRpc(client, 'ListInstance', {}, 300), /timeout/i);
  });

  it('IMDS faults by path prefix', async () => {
    e.imds.injectFault('/latest/meta-data/ram/', { status: 500, times: 1 });
    e.imds.injectFault('/latest/api/token', { throttle: true });
    assert.equal((await fetch(e.imds.url + ROLE_CREDS_PATH)).status, 500);
    assert.equal((await fetch(e.imds.url + ROLE_CREDS_PATH)).status, 200);
    assert.equal((await fetch(e.imds.url + '/latest/api/token', { method: 'PUT', headers: { 'X-aliyun-ecs-metadata-token-ttl-seconds': '60' } })).status, 429);
    e.imds.injectFault(ROLE_CREDS_PATH, { malformedJson: true });
    await assert.rejects((await fetch(e.imds.url + ROLE_CREDS_PATH)).json());
    e.imds.injectFault('*', { resetConnection: true });
    await assert.rejects(fetch(e.imds.url + '/latest/meta-data/region-id'));
    assert.deepEqual(
      e.calls({ server: 'imds' }).map((c) => c.status),
      [500, 200, 429, 200, 0],
    );
  });
});

describe('lifecycle', () => {
  it('close() ends pending delayed requests and frees the ports', async () => {
    const own = await startEmulators({ regions: ['cn-hangzhou'], roleName: 'r2', nodeRegion: 'cn-shenzhen', imdsMode: 'required' });
    const url = own.cr.endpoints()['cn-hangzhou'] ?? '';
    own.state.addAccessKey('LTAI-life', 'life-secret', 'user/life');
    own.cr.injectFault('*', { delayMs: 60_000, times: Infinity });
    const pending = callRpc(crClient(url, { accessKeyId: 'LTAI-life', accessKeySecret: 'life-secret' }), 'ListInstance', {}, 30_000).catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await own.close();
    assert.ok(Date.now() - t0 < 1000);
    assert.ok((await pending) instanceof Error);
    await assert.rejects(fetch(own.imds.url + '/latest/meta-data/region-id'));
  });
});
