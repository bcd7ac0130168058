// Test helper: real @alicloud/openapi-client calls against the emulators, built exactly the way
// the generated CR SDK builds them (docs/reference/alibaba-cloud-apis.md §1.2, §2.1), so tests prove wire compatibility.
import CredentialModule from '@alicloud/credentials';
import OpenApiModule, * as $OpenApi from '@alicloud/openapi-client';
import { RuntimeOptions } from '@alicloud/tea-util';

// Under Node ESM the default import is module.exports; the classes sit on `.default`.
const OpenApi = OpenApiModule.default;
const Credential = CredentialModule.default;

export type OpenApiClient = InstanceType<typeof OpenApi>;

export interface TestCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

/** A credential backed by a custom provider (the SDK's documented injection point). */
export function credentialFor(c: TestCredentials): InstanceType<typeof Credential> {
  const provider = {
    getProviderName: () => 'emulator-test',
    getCredentials: async () => ({
      accessKeyId: c.accessKeyId,
      accessKeySecret: c.accessKeySecret,
      securityToken: c.securityToken ?? '',
      providerName: 'emulator-test',
    }),
  };
  return new Credential(null, provider);
}

/** `endpointUrl` is what endpoints() returns; openapi-client wants host:port only. */
export function crClient(endpointUrl: string, creds: TestCredentials, extra: { signatureAlgorithm?: string } = {}): OpenApiClient {
  return new OpenApi(
    new $OpenApi.Config({
      credential: credentialFor(creds),
      endpoint: new URL(endpointUrl).host,
      protocol: 'http',
      regionId: 'cn-hangzhou',
      ...extra,
    }),
  );
}

export function runtime(timeoutMs = 5000): RuntimeOptions {
  // connectTimeout doubles as an idle timeout in httpx, so keep it >= readTimeout.
  return new RuntimeOptions({ readTimeout: timeoutMs, connectTimeout: timeoutMs });
}

export interface SdkResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** 2018-12-01 RPC call with the generated SDK's Params. */
export async function callRpc(client: OpenApiClient, action: string, query: Record<string, string> = {}, timeoutMs = 5000): Promise<SdkResponse> {
  const params = new $OpenApi.Params({
    action,
    version: '2018-12-01',
    protocol: 'HTTPS',
    pathname: '/',
    method: 'POST',
    authType: 'AK',
    style: 'RPC',
    reqBodyType: 'formData',
    bodyType: 'json',
  });
  return (await client.callApi(params, new $OpenApi.OpenApiRequest({ query }), runtime(timeoutMs))) as SdkResponse;
}

/** 2016-06-07 ROA GET /tokens, with bodyType json (the generated "none" drops the body). */
export async function callPersonalTokens(client: OpenApiClient, timeoutMs = 5000): Promise<SdkResponse> {
  const params = new $OpenApi.Params({
    action: 'GetAuthorizationToken',
    version: '2016-06-07',
    protocol: 'HTTPS',
    pathname: '/tokens',
    method: 'GET',
    authType: 'AK',
    style: 'ROA',
    reqBodyType: 'json',
    bodyType: 'json',
  });
  return (await client.callApi(params, new $OpenApi.OpenApiRequest({}), runtime(timeoutMs))) as SdkResponse;
}

/** The fields tests look at on a thrown openapi-client error. */
export interface SdkError {
  code?: string;
  statusCode?: number;
  message: string;
  data?: Record<string, unknown>;
  accessDeniedDetail?: Record<string, unknown>;
}

export async function sdkError(p: Promise<unknown>): Promise<SdkError> {
  try {
    await p;
  } catch (err) {
    return err as SdkError;
  }
  throw new Error('expected the SDK call to fail');
}
