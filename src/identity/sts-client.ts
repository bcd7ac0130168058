// STS 2015-04-01 AssumeRole (signed with the node's identity) and AssumeRoleWithOIDC (unsigned,
// proves itself with the ServiceAccount token), through @alicloud/openapi-client like the CR
// calls: the library's own STS providers hard-code https and their own timeouts. Each call goes
// out in the wire form of the official clients (docs/cloud-apis.md):
// - AssumeRole through callApi, ACS3-signed, as the generated SDK @alicloud/sts20150401 1.2.0;
// - AssumeRoleWithOIDC through doRPCRequest with authType Anonymous, as that SDK sends it (and as
//   @alicloud/credentials' OIDC provider and ack-ram-tool build it): Action, Version, Format,
//   Timestamp and SignatureNonce in the query, no signature. Whether STS accepts the anonymous
//   ACS3 form is unknown, so it is never used.
import openapi, { Config, OpenApiRequest, Params } from '@alicloud/openapi-client';
import type { ApiEndpoint } from '../acr/endpoints.ts';
import { callOpenApi, type CallHooks, type OpenApiCallOptions, type OpenApiSend } from '../acr/openapi-call.ts';
import { ProviderError } from '../errors.ts';
import { registerSecret } from '../log/logger.ts';
import type { Deadline } from '../resilience/deadline.ts';
import { USER_AGENT } from '../version.ts';
import type { CloudCredential } from './credentials.ts';
import { classifyStsCode, classifyStsThrown, type StsCallContext } from './sts-errors.ts';

const OpenApiClient = openapi.default;
const STS_VERSION = '2015-04-01';

/** Temporary credentials: from an STS call, or the ECS RAM role's from the metadata service. */
export interface StsSession {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string;
  expiresAt: number;
}

export interface StsClientOptions extends CallHooks {
  endpoint: ApiEndpoint;
  deadline: Deadline;
}

export interface AssumeRoleInput {
  roleArn: string;
  sessionName: string;
  durationSeconds: number;
  externalId?: string;
}

export interface AssumeRoleWithOidcInput {
  roleArn: string;
  oidcProviderArn: string;
  token: string;
  sessionName: string;
  durationSeconds: number;
}

export async function assumeRole(options: StsClientOptions, credential: CloudCredential['credential'], caller: string, input: AssumeRoleInput): Promise<StsSession> {
  const client = newClient(options.endpoint, credential);
  const query: Record<string, string> = { RoleArn: input.roleArn, RoleSessionName: input.sessionName, DurationSeconds: String(input.durationSeconds) };
  if (input.externalId !== undefined) query.ExternalId = input.externalId;
  const ctx: StsCallContext = { action: 'AssumeRole', endpointUrl: options.endpoint.url, roleArn: input.roleArn, caller, externalIdSet: input.externalId !== undefined };
  const params = new Params({ action: ctx.action, version: STS_VERSION, protocol: 'HTTPS', pathname: '/', method: 'POST', authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json' });
  const request = new OpenApiRequest({ query });
  return call((runtime) => client.callApi(params, request, runtime), ctx, options, credential);
}

export async function assumeRoleWithOidc(options: StsClientOptions, caller: string, input: AssumeRoleWithOidcInput): Promise<StsSession> {
  registerSecret(input.token);
  const client = newClient(options.endpoint, undefined);
  // In the form body, never in the URL: the token is a secret and up to 20000 characters.
  const body = { RoleArn: input.roleArn, OIDCProviderArn: input.oidcProviderArn, OIDCToken: input.token, RoleSessionName: input.sessionName, DurationSeconds: String(input.durationSeconds) };
  const ctx: StsCallContext = { action: 'AssumeRoleWithOIDC', endpointUrl: options.endpoint.url, roleArn: input.roleArn, caller };
  const request = new OpenApiRequest({ body });
  return call((runtime) => client.doRPCRequest(ctx.action, STS_VERSION, 'HTTPS', 'POST', 'Anonymous', 'json', request, runtime), ctx, options, undefined);
}

function newClient(endpoint: ApiEndpoint, credential: CloudCredential['credential'] | undefined) {
  const config = new Config({ endpoint: endpoint.host, protocol: endpoint.protocol, userAgent: USER_AGENT });
  if (credential) config.credential = credential;
  return new OpenApiClient(config);
}

async function call(send: OpenApiSend, ctx: StsCallContext, options: StsClientOptions, credential: CloudCredential['credential'] | undefined): Promise<StsSession> {
  const malformed = () => new ProviderError('api', `${ctx.action} at ${ctx.endpointUrl} returned a response without the expected fields`, { retryable: true });
  const callOptions: OpenApiCallOptions = {
    action: ctx.action,
    deadline: options.deadline,
    credential,
    onCall: options.onCall,
    onRetry: options.onRetry,
    classifyThrown: (error) => classifyStsThrown(error, ctx),
    classifyFailure: (code, message) => classifyStsCode(code, message, 200, ctx),
    malformed,
  };
  return callOpenApi(send, callOptions, (response) => {
    const c = (response.Credentials ?? {}) as Record<string, unknown>;
    const expiresAt = typeof c.Expiration === 'string' ? Date.parse(c.Expiration) : NaN;
    if (typeof c.AccessKeyId !== 'string' || typeof c.AccessKeySecret !== 'string' || typeof c.SecurityToken !== 'string' || !Number.isFinite(expiresAt)) throw malformed();
    registerSecret(c.AccessKeySecret);
    registerSecret(c.SecurityToken);
    return { accessKeyId: c.AccessKeyId, accessKeySecret: c.AccessKeySecret, securityToken: c.SecurityToken, expiresAt };
  });
}
