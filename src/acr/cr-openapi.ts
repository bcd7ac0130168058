// CrApi over @alicloud/openapi-client's generic callApi (the generated @alicloud/cr20181201 is
// not in our registry). Each call: per-attempt timeouts inside the invocation's deadline,
// bounded retries, IsSuccess checked on 200s, and the response validated before use.
import openapi, { Config, OpenApiRequest, Params } from '@alicloud/openapi-client';
import { ProviderError } from '../errors.ts';
import { registerSecret } from '../log/logger.ts';
import type { Deadline } from '../resilience/deadline.ts';
import { classifyApiCode, classifyCallError, type CallContext } from './api-errors.ts';
import type { CrApi, GetAuthorizationTokenResponseBody, ListInstanceEndpointResponseBody, ListInstanceResponseBody, PersonalAuthorizationTokenBody } from './cr-api.ts';
import type { ApiEndpoint } from './endpoints.ts';
import { callOpenApi, type CallHooks, type OpenApiCallOptions } from './openapi-call.ts';
import { USER_AGENT } from '../version.ts';
import type { CloudCredential } from '../identity/credentials.ts';

const OpenApiClient = openapi.default;

export interface CrOpenApiOptions extends CallHooks {
  region: string;
  endpoint: ApiEndpoint;
  /** What to check when the endpoint is unreachable (endpoints.ts unreachableHint). */
  unreachableHint?: string;
  credential: CloudCredential['credential'];
  identity: string;
  deadline: Deadline;
}

type RpcAction = 'GetAuthorizationToken' | 'ListInstance' | 'ListInstanceEndpoint';

export class CrOpenApiClient implements CrApi {
  private readonly options: CrOpenApiOptions;
  private readonly client: InstanceType<typeof OpenApiClient>;

  constructor(options: CrOpenApiOptions) {
    this.options = options;
    this.client = new OpenApiClient(
      new Config({
        credential: options.credential,
        endpoint: options.endpoint.host,
        protocol: options.endpoint.protocol,
        regionId: options.region,
        userAgent: USER_AGENT,
      }),
    );
  }

  async getAuthorizationToken(request: { instanceId: string; expiresInHours?: number }): Promise<GetAuthorizationTokenResponseBody> {
    const query: Record<string, string> = { InstanceId: request.instanceId };
    if (request.expiresInHours !== undefined) query.ExpiresInHours = String(request.expiresInHours);
    return this.rpc('GetAuthorizationToken', query, `instance ${request.instanceId}`, (body) => {
      const { AuthorizationToken, TempUsername, ExpireTime } = body;
      if (typeof AuthorizationToken !== 'string' || !AuthorizationToken || typeof TempUsername !== 'string' || !Number.isFinite(Number(ExpireTime))) {
        throw this.malformed('GetAuthorizationToken');
      }
      registerSecret(AuthorizationToken);
      return { authorizationToken: AuthorizationToken, tempUsername: TempUsername, expireTime: Number(ExpireTime) };
    });
  }

  async listInstance(request: { pageNo: number; pageSize: number }): Promise<ListInstanceResponseBody> {
    const body = await this.rpc('ListInstance', { PageNo: String(request.pageNo), PageSize: String(request.pageSize) }, undefined, (b) => b);
    const instances = Array.isArray(body.Instances) ? body.Instances : [];
    return {
      totalCount: Number(body.TotalCount) || 0,
      instances: instances.flatMap((i: Record<string, unknown>) =>
        typeof i.InstanceId === 'string' && typeof i.InstanceName === 'string'
          ? [{ instanceId: i.InstanceId, instanceName: i.InstanceName, instanceStatus: typeof i.InstanceStatus === 'string' ? i.InstanceStatus : undefined }]
          : [],
      ),
    };
  }

  async listInstanceEndpoint(request: { instanceId: string; moduleName: 'Registry' }): Promise<ListInstanceEndpointResponseBody> {
    const body = await this.rpc('ListInstanceEndpoint', { InstanceId: request.instanceId, ModuleName: request.moduleName }, `instance ${request.instanceId}`, (b) => b);
    const endpoints = Array.isArray(body.Endpoints) ? body.Endpoints : [];
    return {
      endpoints: endpoints.map((e: Record<string, unknown>) => ({
        endpointType: typeof e.EndpointType === 'string' ? e.EndpointType : undefined,
        domains: (Array.isArray(e.Domains) ? e.Domains : []).flatMap((d: Record<string, unknown>) =>
          typeof d.Domain === 'string' ? [{ domain: d.Domain, type: typeof d.Type === 'string' ? d.Type : undefined }] : [],
        ),
      })),
    };
  }

  async getPersonalAuthorizationToken(): Promise<PersonalAuthorizationTokenBody> {
    const ctx = this.context('GetAuthorizationToken', 'cr:GetAuthorizationToken');
    // The generated cr20160607 client says bodyType "none", with which callApi drops the body.
    const params = new Params({ action: 'GetAuthorizationToken', version: '2016-06-07', protocol: 'HTTPS', pathname: '/tokens', method: 'GET', authType: 'AK', style: 'ROA', reqBodyType: 'json', bodyType: 'json' });
    return this.call(params, new OpenApiRequest({}), ctx, (body) => {
      const data = (body.data ?? {}) as Record<string, unknown>;
      const { authorizationToken, tempUserName, expireDate } = data;
      if (typeof authorizationToken !== 'string' || !authorizationToken || typeof tempUserName !== 'string' || !Number.isFinite(Number(expireDate))) {
        throw this.malformed('GetAuthorizationToken (2016-06-07)');
      }
      registerSecret(authorizationToken);
      return { authorizationToken, tempUserName, expireDate: Number(expireDate) };
    });
  }

  private async rpc<T>(action: RpcAction, query: Record<string, string>, subject: string | undefined, read: (body: Record<string, any>) => T): Promise<T> {
    const ctx = this.context(action, `cr:${action}`, subject);
    const params = new Params({ action, version: '2018-12-01', protocol: 'HTTPS', pathname: '/', method: 'POST', authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json' });
    return this.call(params, new OpenApiRequest({ query }), ctx, read);
  }

  /** One API call with retries; `read` validates the body inside the retry loop, so a
   *  response without the expected fields is retried like any other bad answer. */
  private async call<T>(params: Params, request: OpenApiRequest, ctx: CallContext, read: (body: Record<string, any>) => T): Promise<T> {
    const { deadline, credential, onCall, onRetry } = this.options;
    const options: OpenApiCallOptions = {
      action: ctx.action,
      deadline,
      credential,
      onCall,
      onRetry,
      classifyThrown: (error) => classifyCallError(error, ctx),
      classifyFailure: (code, message) => classifyApiCode(code, message, 200, ctx),
      malformed: () => this.malformed(ctx.action),
    };
    return callOpenApi((runtime) => this.client.callApi(params, request, runtime), options, read);
  }

  private context(action: string, ramAction: string, subject?: string): CallContext {
    const ctx: CallContext = { action, ramAction, region: this.options.region, endpointUrl: this.options.endpoint.url, identity: this.options.identity };
    if (subject !== undefined) ctx.subject = subject;
    if (this.options.unreachableHint !== undefined) ctx.unreachableHint = this.options.unreachableHint;
    return ctx;
  }

  private malformed(action: string): ProviderError {
    return new ProviderError('api', `${action} at ${this.options.endpoint.url} returned a response without the expected fields`, { retryable: true });
  }
}
