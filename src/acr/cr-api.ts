// The CR OpenAPI calls we make, named and shaped like the generated @alicloud/cr20181201 (and
// cr20160607) clients' methods and response models, so cr-openapi.ts could be swapped for the
// generated SDK in one place. Everything else depends on this interface only.

export interface GetAuthorizationTokenResponseBody {
  authorizationToken: string;
  tempUsername: string;
  /** Epoch milliseconds. */
  expireTime: number;
}

export interface ListInstanceResponseBody {
  instances: Array<{ instanceId: string; instanceName: string; instanceStatus?: string }>;
  totalCount: number;
}

export interface ListInstanceEndpointResponseBody {
  endpoints: Array<{ endpointType?: string; domains: Array<{ domain: string; type?: string }> }>;
}

/** 2016-06-07 GET /tokens (Personal Edition, legacy hosts). */
export interface PersonalAuthorizationTokenBody {
  authorizationToken: string;
  tempUserName: string;
  /** Epoch milliseconds. */
  expireDate: number;
}

export interface CrApi {
  /** expiresInHours: 1-24, sent as ExpiresInHours; absent, the API's default (1 h). */
  getAuthorizationToken(request: { instanceId: string; expiresInHours?: number }): Promise<GetAuthorizationTokenResponseBody>;
  listInstance(request: { pageNo: number; pageSize: number }): Promise<ListInstanceResponseBody>;
  listInstanceEndpoint(request: { instanceId: string; moduleName: 'Registry' }): Promise<ListInstanceEndpointResponseBody>;
  getPersonalAuthorizationToken(): Promise<PersonalAuthorizationTokenBody>;
}
