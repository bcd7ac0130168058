// The STS emulator is strict per action: it accepts exactly the wire forms the official clients
// send, proven by driving it with those clients themselves, and rejects the rest.
// - AssumeRoleWithOIDC (anonymous): the RPC form. @alicloud/credentials' OIDC provider (query
//   Action/Version/Format/Timestamp, parameters in the form body, no signature) and the generated
//   TypeScript SDK @alicloud/sts20150401 1.2.0 (openapi-client doRPCRequest with authType
//   Anonymous, parameters in the query) both get a session; the anonymous ACS3 form (callApi,
//   action only in the x-acs-action header) is refused.
// - AssumeRole (signed): ACS3 (the TypeScript SDK's callApi) and the legacy RPC HMAC-SHA1
//   signature (@alicloud/credentials' RAM role ARN provider, the Go SDK); unsigned is refused.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import CredentialModule, { OIDCRoleArnCredentialsProvider, RAMRoleARNCredentialsProvider, StaticAKCredentialsProvider } from '@alicloud/credentials';
import OpenApiModule, * as $OpenApi from '@alicloud/openapi-client';
import { sharedEmulators } from '../helpers/shared-emulators.ts';
import { mintServiceAccountToken, type OidcProvider, type RamRole } from './index.ts';
import { runtime, sdkError } from './sdk-client.ts';

const OpenApi = OpenApiModule.default;
const Credential = CredentialModule.default;

let provider: OidcProvider;
let oidcRole: RamRole;
let crossRole: RamRole;
const CALLER_KEY = { id: 'LTAI5tCallerKeyId0001', secret: 'caller-secret-0123456789abcdef' };
const dir = mkdtempSync(join(tmpdir(), 'sts-wire-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const e = sharedEmulators(
  { sts: true },
  {
    prepare(e) {
      provider = e.state.addOidcProvider({ name: 'ack-rrsa-wire' });
      oidcRole = e.state.addRole({ name: 'oidc-puller', trust: { oidc: { providerArn: provider.arn } } });
      e.state.addAccessKey(CALLER_KEY.id, CALLER_KEY.secret, 'user/ci');
      crossRole = e.state.addRole({ name: 'cross-puller', accountId: '2222222222222222', trust: { principals: ['user/ci'] } });
    },
  },
);

const stsHost = (): string => new URL(e.sts!.url).host;

/** The library hard-codes https; only the scheme is changed, the request is the library's own. */
function overPlainHttp<T extends object>(p: T): T {
  const holder = p as unknown as { doRequest: (req: { protocol: string }) => Promise<unknown> };
  const send = holder.doRequest;
  holder.doRequest = (req) => {
    req.protocol = 'http';
    return send(req);
  };
  return p;
}

function tokenFile(): string {
  const path = join(dir, `token-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, mintServiceAccountToken(provider, { namespace: 'team-a', name: 'app' }));
  return path;
}

function oidcParams(): Record<string, string> {
  return {
    OIDCProviderArn: provider.arn,
    OIDCToken: mintServiceAccountToken(provider, { namespace: 'team-a', name: 'app' }),
    RoleArn: oidcRole.arn,
    RoleSessionName: 'team-a.app',
    DurationSeconds: '3600',
  };
}

function anonymousClient() {
  return new OpenApi(new $OpenApi.Config({ endpoint: stsHost(), protocol: 'http' }));
}

function stsParams(action: string, authType: 'AK' | 'Anonymous') {
  return new $OpenApi.Params({ action, version: '2015-04-01', protocol: 'HTTPS', pathname: '/', method: 'POST', authType, style: 'RPC', reqBodyType: 'formData', bodyType: 'json' });
}

describe('STS emulator: AssumeRoleWithOIDC accepts exactly the RPC form of the official clients', () => {
  it("@alicloud/credentials' own OIDC provider gets a session", async () => {
    const p = overPlainHttp(
      OIDCRoleArnCredentialsProvider.builder().withOIDCProviderArn(provider.arn).withOIDCTokenFilePath(tokenFile()).withRoleArn(oidcRole.arn).withRoleSessionName('team-a.app').withStsEndpoint(stsHost()).build(),
    );
    const c = await p.getCredentials();
    assert.match(c.accessKeyId, /^STS\./);
    const [call] = e.calls({ server: 'sts', action: 'AssumeRoleWithOIDC' });
    assert.equal(call?.status, 200);
    assert.equal(call?.wire, 'rpc-anonymous');
  });

  it('the generated SDK (doRPCRequest, Anonymous, parameters in the query) gets a session', async () => {
    const res = await anonymousClient().doRPCRequest('AssumeRoleWithOIDC', '2015-04-01', 'HTTPS', 'POST', 'Anonymous', 'json', new $OpenApi.OpenApiRequest({ query: oidcParams() }), runtime());
    assert.match(String((res.body as { Credentials?: { AccessKeyId?: string } }).Credentials?.AccessKeyId), /^STS\./);
  });

  it('the anonymous ACS3 form (callApi: action only in x-acs-action) is refused', async () => {
    const err = await sdkError(anonymousClient().callApi(stsParams('AssumeRoleWithOIDC', 'Anonymous'), new $OpenApi.OpenApiRequest({ body: oidcParams() }), runtime()));
    assert.equal(err.statusCode, 400);
    assert.equal(err.code, 'MissingParameter');
    const [call] = e.calls({ server: 'sts' });
    assert.equal(call?.wire, 'acs3');
    assert.equal(call?.status, 400);
  });

  it('the ACS3 form with the parameters in the query is refused too', async () => {
    const err = await sdkError(anonymousClient().callApi(stsParams('AssumeRoleWithOIDC', 'Anonymous'), new $OpenApi.OpenApiRequest({ query: oidcParams() }), runtime()));
    assert.equal(err.code, 'MissingParameter');
  });

  it('a signed AssumeRoleWithOIDC is refused (the API is anonymous)', async () => {
    const signed = new OpenApi(new $OpenApi.Config({ endpoint: stsHost(), protocol: 'http', signatureAlgorithm: 'v2', credential: new Credential(null, StaticAKCredentialsProvider.builder().withAccessKeyId(CALLER_KEY.id).withAccessKeySecret(CALLER_KEY.secret).build()) }));
    const err = await sdkError(signed.callApi(stsParams('AssumeRoleWithOIDC', 'AK'), new $OpenApi.OpenApiRequest({ body: oidcParams() }), runtime()));
    assert.equal(err.statusCode, 400);
  });
});

describe('STS emulator: AssumeRole accepts the signed forms of the official clients', () => {
  const caller = () => StaticAKCredentialsProvider.builder().withAccessKeyId(CALLER_KEY.id).withAccessKeySecret(CALLER_KEY.secret).build();

  it("@alicloud/credentials' RAM role ARN provider (RPC HMAC-SHA1 signature) gets a session", async () => {
    const p = overPlainHttp(RAMRoleARNCredentialsProvider.builder().withCredentialsProvider(caller()).withRoleArn(crossRole.arn).withRoleSessionName('ci-session').withStsEndpoint(stsHost()).build());
    const c = await p.getCredentials();
    assert.match(c.accessKeyId, /^STS\./);
    const [call] = e.calls({ server: 'sts', action: 'AssumeRole' });
    assert.equal(call?.status, 200);
    assert.equal(call?.wire, 'rpc-v1');
  });

  it('the generated SDK (callApi, ACS3 signature) gets a session', async () => {
    const signed = new OpenApi(new $OpenApi.Config({ endpoint: stsHost(), protocol: 'http', credential: new Credential(null, caller()) }));
    const res = await signed.callApi(stsParams('AssumeRole', 'AK'), new $OpenApi.OpenApiRequest({ query: { RoleArn: crossRole.arn, RoleSessionName: 'ci-session' } }), runtime());
    assert.match(String((res.body as { Credentials?: { AccessKeyId?: string } }).Credentials?.AccessKeyId), /^STS\./);
    assert.equal(e.calls({ server: 'sts' })[0]?.wire, 'acs3');
  });

  it('an unsigned AssumeRole is refused', async () => {
    const err = await sdkError(anonymousClient().doRPCRequest('AssumeRole', '2015-04-01', 'HTTPS', 'POST', 'Anonymous', 'json', new $OpenApi.OpenApiRequest({ body: { RoleArn: crossRole.arn, RoleSessionName: 'ci-session' } }), runtime()));
    assert.equal(err.statusCode, 400);
    assert.equal(err.code, 'MissingAccessKeyId');
  });
});
