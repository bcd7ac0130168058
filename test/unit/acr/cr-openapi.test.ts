// CrOpenApiClient against the CR API emulator (real signatures, real HTTP on 127.0.0.1).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { CrOpenApiClient } from '../../../src/acr/cr-openapi.ts';
import { toApiEndpoint } from '../../../src/acr/endpoints.ts';
import { ProviderError } from '../../../src/errors.ts';
import { createCloudCredential, type CloudCredential } from '../../../src/identity/credentials.ts';
import { MetadataClient } from '../../../src/identity/imds-client.ts';
import { Deadline } from '../../../src/resilience/deadline.ts';
import { roleIdentity, type FaultSpec } from '../../emulators/index.ts';
import { sharedEmulators } from '../../helpers/shared-emulators.ts';
import { providerError } from '../../helpers/provider-error.ts';

const REGION = 'cn-hangzhou';
const STATIC_ID = 'LTAI5tStaticTestKey01';
const STATIC_SECRET = 'static-secret-0123456789abcdef';

let instanceId: string;
const e = sharedEmulators(
  { regions: [REGION, 'cn-beijing'] },
  {
    prepare(e) {
      e.state.addAccessKey(STATIC_ID, STATIC_SECRET, 'user/ci');
      instanceId = e.state.addInstance({ regionId: REGION, instanceName: 'prod', userDomains: ['reg.example.com'] }).instanceId;
    },
    reset(e) {
      e.state.allowAction('user/ci');
      e.state.allowAction(roleIdentity('acr-node-role'));
      e.state.instanceNotFoundStatus = 200;
    },
  },
);

type Identity = 'static' | 'sts';

function credentialFor(identity: Identity): CloudCredential {
  return identity === 'static'
    ? createCloudCredential({ kind: 'environment', accessKeyId: STATIC_ID, accessKeySecret: STATIC_SECRET }, () => assert.fail('no metadata for a static key'))
    : createCloudCredential({ kind: 'ecs-ram-role' }, () => new MetadataClient({ endpoint: e.imds.url, disableIMDSv1: false, deadline: new Deadline(30_000) }));
}

function clientFor(identity: Identity, region = REGION, endpointUrl?: string) {
  const calls: Array<[string, string]> = [];
  const retries: string[] = [];
  const url = endpointUrl ?? e.cr.endpoints()[region];
  assert.ok(url);
  const client = new CrOpenApiClient({
    region,
    endpoint: toApiEndpoint(url),
    credential: credentialFor(identity).credential,
    identity: identity === 'static' ? 'AccessKey LTAI5t… from the environment' : 'the ECS instance\'s RAM role',
    deadline: new Deadline(30_000),
    onCall: (action, _ms, outcome) => calls.push([action, outcome]),
    onRetry: (m) => retries.push(m),
  });
  return { client, calls, retries };
}


const crCalls = (action?: string) => e.calls({ server: 'cr', ...(action ? { action } : {}) });

for (const identity of ['static', 'sts'] as const) {
  describe(`CrOpenApiClient with ${identity === 'static' ? 'a static AccessKey' : 'STS credentials from IMDS'}`, () => {
    it('getAuthorizationToken returns a token the cloud issued for this instance', async () => {
      const { client, calls } = clientFor(identity);
      const token = await client.getAuthorizationToken({ instanceId });
      const issued = e.state.validateRegistryToken(token.tempUsername, token.authorizationToken);
      assert.ok(issued, 'the cloud knows this token');
      assert.equal(issued.instanceId, instanceId);
      assert.equal(issued.identity, identity === 'static' ? 'user/ci' : roleIdentity('acr-node-role'));
      assert.equal(token.tempUsername, 'cr_temp_user');
      assert.equal(token.expireTime, issued.expiresAt);
      assert.deepEqual(calls, [['GetAuthorizationToken', 'ok']]);
      const [call] = crCalls('GetAuthorizationToken');
      assert.equal(call?.apiVersion, '2018-12-01');
      assert.equal(call?.status, 200);
      if (identity === 'static') assert.equal(call?.accessKeyId, STATIC_ID);
      else assert.match(call?.accessKeyId ?? '', /^STS\./);
    });

    it('listInstance returns the instances of the region', async () => {
      const { client } = clientFor(identity);
      const page = await client.listInstance({ pageNo: 1, pageSize: 30 });
      assert.equal(page.totalCount, 1);
      assert.deepEqual(page.instances, [{ instanceId, instanceName: 'prod', instanceStatus: 'RUNNING' }]);
    });

    it('listInstanceEndpoint returns the registry domains', async () => {
      const { client } = clientFor(identity);
      const { endpoints } = await client.listInstanceEndpoint({ instanceId, moduleName: 'Registry' });
      assert.deepEqual(
        endpoints.map((x) => [x.endpointType, x.domains.map((d) => `${d.type}:${d.domain}`)]),
        [
          ['internet', [`SYSTEM:prod-registry.${REGION}.cr.aliyuncs.com`, 'USER:reg.example.com']],
          ['vpc', [`SYSTEM:prod-registry-vpc.${REGION}.cr.aliyuncs.com`, 'USER:reg.example.com']],
        ],
      );
    });

    it('getPersonalAuthorizationToken uses the 2016-06-07 /tokens API', async () => {
      const { client } = clientFor(identity);
      const token = await client.getPersonalAuthorizationToken();
      const issued = e.state.validateRegistryToken(token.tempUserName, token.authorizationToken);
      assert.ok(issued);
      assert.equal(issued.instanceId, null);
      assert.equal(token.expireDate, issued.expiresAt);
      assert.equal(crCalls('GetAuthorizationToken')[0]?.apiVersion, '2016-06-07');
    });

    it('403 Forbidden.RAM -> permission naming cr:<Action>, exactly one call', async () => {
      const who = identity === 'static' ? 'user/ci' : roleIdentity('acr-node-role');
      e.state.denyAction(who, 'ListInstance');
      const { client, retries } = clientFor(identity);
      const error = await providerError(client.listInstance({ pageNo: 1, pageSize: 30 }));
      assert.equal(error.errorClass, 'permission');
      assert.equal(error.retryable, false);
      assert.match(error.message, /not allowed to call cr:ListInstance in cn-hangzhou \(Forbidden\.RAM\)/);
      assert.equal(crCalls('ListInstance').length, 1);
      assert.deepEqual(retries, []);
    });
  });
}

describe('CrOpenApiClient: business errors', () => {
  it('INSTANCE_NOT_EXIST (200 IsSuccess:false) -> not-found, one call', async () => {
    const { client, calls } = clientFor('static');
    const error = await providerError(client.getAuthorizationToken({ instanceId: 'cri-doesnotexist' }));
    assert.equal(error.errorClass, 'not-found');
    assert.match(error.message, /for instance cri-doesnotexist in cn-hangzhou: no such instance/);
    assert.equal(crCalls().length, 1);
    assert.deepEqual(calls, [['GetAuthorizationToken', 'not-found']]);
  });

  it('INSTANCE_NOT_EXIST as HTTP 404 -> not-found too', async () => {
    e.state.instanceNotFoundStatus = 404;
    const { client } = clientFor('static');
    const error = await providerError(client.listInstanceEndpoint({ instanceId: 'cri-doesnotexist', moduleName: 'Registry' }));
    assert.equal(error.errorClass, 'not-found');
    assert.equal(crCalls().length, 1);
  });

  it('an instance of another region is not found on this region\'s endpoint', async () => {
    const { client } = clientFor('static', 'cn-beijing');
    assert.equal((await providerError(client.getAuthorizationToken({ instanceId }))).errorClass, 'not-found');
  });

  it('IsSuccess:false with another code -> api error carrying code and message, not retried', async () => {
    e.cr.injectFault('GetAuthorizationToken', { isSuccessFalse: { code: 'INSTANCE_STATUS_INVALID', message: 'instance status is STOPPED.' } });
    const { client } = clientFor('static');
    const error = await providerError(client.getAuthorizationToken({ instanceId }));
    assert.equal(error.errorClass, 'api');
    assert.equal(error.retryable, false);
    assert.match(error.message, /\(INSTANCE_STATUS_INVALID: instance status is STOPPED\.\)/);
    assert.equal(crCalls().length, 1);
  });

  it('IsSuccess:false with a throttling code is retried', async () => {
    e.cr.injectFault('ListInstance', { isSuccessFalse: { code: 'Throttling.User' } });
    const { client, retries } = clientFor('static');
    await client.listInstance({ pageNo: 1, pageSize: 30 });
    assert.equal(crCalls('ListInstance').length, 2);
    assert.equal(retries.length, 1);
  });

  it('a wrong secret -> api error about the credentials, not retried', async () => {
    e.state.addAccessKey('LTAI5tWrongSecretKey', 'right-secret', 'user/other');
    const bad = new CrOpenApiClient({
      region: REGION,
      endpoint: toApiEndpoint(e.cr.endpoints()[REGION] ?? ''),
      credential: createCloudCredential({ kind: 'environment', accessKeyId: 'LTAI5tWrongSecretKey', accessKeySecret: 'wrong-secret' }, () => assert.fail()).credential,
      identity: 'AccessKey LTAI5t…',
      deadline: new Deadline(30_000),
    });
    const error = await providerError(bad.listInstance({ pageNo: 1, pageSize: 30 }));
    assert.equal(error.errorClass, 'api');
    assert.match(error.message, /rejected the credentials of AccessKey LTAI5t… \(SignatureDoesNotMatch\)/);
    assert.equal(crCalls().length, 1);
  });
});

describe('CrOpenApiClient: transient failures are retried, then succeed', () => {
  const rows: Array<[string, FaultSpec, string]> = [
    ['503 ServiceUnavailable', { status: 503 }, 'throttled'],
    ['500 InternalError twice', { status: 500, times: 2 }, 'api'],
    ['Throttling.User', { throttle: true }, 'throttled'],
    ['a reset connection', { resetConnection: true }, 'network'],
    ['a truncated JSON body', { malformedJson: true }, 'api'],
  ];
  for (const [name, fault, errorClass] of rows) {
    it(name, async () => {
      e.cr.injectFault('GetAuthorizationToken', fault, REGION);
      const { client, calls, retries } = clientFor('static');
      const token = await client.getAuthorizationToken({ instanceId });
      assert.ok(e.state.validateRegistryToken(token.tempUsername, token.authorizationToken));
      const times = fault.times ?? 1;
      assert.deepEqual(calls, [...Array<[string, string]>(times).fill(['GetAuthorizationToken', errorClass]), ['GetAuthorizationToken', 'ok']]);
      assert.equal(retries.length, times);
      assert.equal(crCalls('GetAuthorizationToken').length, times + 1);
      assert.equal(e.state.faults.pending('cr'), 0);
    });
  }

  it('a persistent outage gives up after five attempts with the last error', { timeout: 30_000 }, async () => {
    e.cr.injectFault('ListInstance', { status: 503, times: Infinity });
    const { client } = clientFor('static');
    const error = await providerError(client.listInstance({ pageNo: 1, pageSize: 30 }));
    assert.equal(error.errorClass, 'throttled');
    assert.equal(error.retryable, true);
    assert.equal(crCalls('ListInstance').length, 5);
  });

  it('a transient IMDS failure under a CR call is retried (once), then the call succeeds', async () => {
    e.imds.injectFault('/latest/meta-data/ram/security-credentials/acr-node-role', { status: 500 });
    const { client } = clientFor('sts');
    const page = await client.listInstance({ pageNo: 1, pageSize: 30 });
    assert.equal(page.totalCount, 1);
    assert.deepEqual(
      e.calls({ server: 'imds', action: '/latest/meta-data/ram/security-credentials/acr-node-role' }).map((c) => c.status),
      [500, 200],
    );
    assert.equal(crCalls('ListInstance').length, 1);
  });

  it('no RAM role under a CR call: no-role, and no CR request is sent', async () => {
    e.imds.setRole(null);
    try {
      const { client } = clientFor('sts');
      const error = await providerError(client.listInstance({ pageNo: 1, pageSize: 30 }));
      assert.equal(error.errorClass, 'no-role');
      assert.equal(crCalls().length, 0);
    } finally {
      e.imds.setRole('acr-node-role');
    }
  });

  it('truncated IMDS credentials under a CR call are retried', async () => {
    e.imds.injectFault('/latest/meta-data/ram/security-credentials/acr-node-role', { malformedJson: true });
    const { client } = clientFor('sts');
    const page = await client.listInstance({ pageNo: 1, pageSize: 30 });
    assert.equal(page.totalCount, 1);
    assert.equal(crCalls('ListInstance').length, 1);
  });
});

describe('CrOpenApiClient: malformed responses never leak the body', () => {
  const FAKE_TOKEN = 'FAKE-REGISTRY-TOKEN-eyJhbGciOiJSUzI1NiJ9-leak';
  let server: Server;
  let url: string;
  let requests = 0;
  let body = '';
  before(async () => {
    server = createServer((req, res) => {
      requests++;
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const bodies: Array<[string, string, RegExp, string | undefined]> = [
    ['truncated JSON', `{"RequestId":"1","AuthorizationToken":"${FAKE_TOKEN}","TempUsername":"cr_temp_us`, /returned a malformed response$/, undefined],
    ['not JSON at all', `<html>${FAKE_TOKEN}</html>`, /returned a malformed response$/, undefined],
    [
      'JSON without the expected fields',
      JSON.stringify({ IsSuccess: true, Token: FAKE_TOKEN }),
      /returned a response without the expected fields$/,
      undefined,
    ],
  ];
  for (const [name, text, want, retryTodo] of bodies) {
    const run = async () => {
      body = text;
      requests = 0;
      const { client } = clientFor('static', REGION, url);
      return providerError(client.getAuthorizationToken({ instanceId: 'cri-x' }));
    };

    it(`${name}: an api error that names the endpoint, without the body`, { timeout: 30_000 }, async () => {
      const error = await run();
      assert.equal(error.errorClass, 'api');
      assert.equal(error.retryable, true);
      assert.match(error.message, want);
      assert.ok(error.message.includes(url), 'names the endpoint');
      assert.ok(!error.message.includes(FAKE_TOKEN), error.message);
      assert.ok(!String(error.stack).includes(FAKE_TOKEN));
      assert.ok(!JSON.stringify(error).includes(FAKE_TOKEN));
      assert.equal(error.cause, undefined);
    });

    it(`${name}: retried up to the attempt limit`, { timeout: 30_000, ...(retryTodo ? { todo: retryTodo } : {}) }, async () => {
      await run();
      assert.equal(requests, 5);
    });
  }
});
