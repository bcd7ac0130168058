// Container Registry OpenAPI emulator: one HTTP server per region (the SDK endpoint is
// host:port only and the V3 signature covers the host header, so the region cannot live in the
// path). Speaks 2018-12-01 RPC (GetAuthorizationToken, ListInstance, ListInstanceEndpoint) and
// the 2016-06-07 ROA GET /tokens, with the POP gateway's authentication and error shapes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { accountOf } from './cloud-state.ts';
import type { AccessKeyRecord, CloudState, EeInstance } from './cloud-state.ts';
import type { FaultSpec } from './faults.ts';
import { delayOrReset, parseRequest, sendJson, sendTruncatedJson, startHttpServer } from './http-util.ts';
import type { RunningServer } from './http-util.ts';
import { verifyRpcV1Request } from './signature-rpc-v1.ts';
import { verifyAcs3Request } from './signature-v3.ts';

export interface CrServers {
  /** region → "http://127.0.0.1:<port>" (strip the scheme for openapi-client's `endpoint`). */
  endpoints(): Record<string, string>;
  /** `action`: 'GetAuthorizationToken', 'ListInstance', 'ListInstanceEndpoint', '/tokens' or '*'. */
  injectFault(action: string, fault: FaultSpec, region?: string): void;
  close(): Promise<void>;
}

const RPC_VERSION = '2018-12-01';
const ROA_VERSION = '2016-06-07';
const RPC_ACTIONS = new Set(['GetAuthorizationToken', 'ListInstance', 'ListInstanceEndpoint']);
const DEFAULT_PAGE_SIZE = 30;

/** Thrown by handlers to answer with a POP error. */
class PopError extends Error {
  readonly status: number;
  readonly code: string;
  readonly extra: Record<string, unknown>;
  constructor(status: number, code: string, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

/** A business failure: HTTP 200 (or configured status) with IsSuccess:false. */
class BizError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(code: string, message: string, status = 200) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

interface ApiCall {
  region: string;
  action: string;
  version: string;
  params: Map<string, string>;
  caller: AccessKeyRecord;
  requestId: string;
}

function intParam(params: Map<string, string>, name: string, fallback: number): number {
  const raw = params.get(name);
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new BizError('PARAM_INVALID', `${name} is invalid.`);
  return Number(raw);
}

function requireParam(params: Map<string, string>, name: string): string {
  const v = params.get(name);
  if (v === undefined || v === '') throw new PopError(400, `Missing${name}`, `${name} is mandatory for this action.`);
  return v;
}

export async function startCrServers(opts: { state: CloudState; regions: readonly string[] }): Promise<CrServers> {
  const { state } = opts;

  // Instances belong to accounts: another account's instance does not exist for the caller.
  const findInstanceOrFail = (region: string, instanceId: string, caller: AccessKeyRecord): EeInstance => {
    const inst = state.findInstance(region, instanceId, accountOf(caller.identity));
    if (!inst) throw new BizError('INSTANCE_NOT_EXIST', 'instance not exist.', state.instanceNotFoundStatus);
    return inst;
  };

  // --- API handlers: return the success body ------------------------------------------------

  const getAuthorizationToken = (c: ApiCall): Record<string, unknown> => {
    const inst = findInstanceOrFail(c.region, requireParam(c.params, 'InstanceId'), c.caller);
    if (inst.status !== 'RUNNING') throw new BizError('INSTANCE_STATUS_INVALID', `instance status is ${inst.status}.`);
    const hours = c.params.has('ExpiresInHours') ? intParam(c.params, 'ExpiresInHours', 1) : undefined;
    if (hours !== undefined && hours > 24) throw new BizError('PARAM_INVALID', 'ExpiresInHours must be 1 to 24.');
    const token = state.issueRegistryToken({
      apiVersion: RPC_VERSION,
      instanceId: inst.instanceId,
      regionId: c.region,
      caller: c.caller,
      ...(hours !== undefined ? { requestedLifetimeMs: hours * 3600_000 } : {}),
    });
    return { AuthorizationToken: token.password, TempUsername: token.username, ExpireTime: token.expiresAt, IsSuccess: true, Code: 'success', RequestId: c.requestId };
  };

  const listInstance = (c: ApiCall): Record<string, unknown> => {
    const pageNo = intParam(c.params, 'PageNo', 1);
    const pageSize = intParam(c.params, 'PageSize', DEFAULT_PAGE_SIZE);
    const name = c.params.get('InstanceName');
    const status = c.params.get('InstanceStatus');
    // The deprecated InstanceName filter behaves fuzzily (substring), so clients must match exactly.
    const all = state
      .instances(c.region)
      .filter((i) => i.accountId === accountOf(c.caller.identity))
      .filter((i) => (name ? i.instanceName.includes(name) : true) && (status ? i.status === status : true));
    const page = all.slice((pageNo - 1) * pageSize, pageNo * pageSize);
    return {
      Code: 'success',
      IsSuccess: true,
      RequestId: c.requestId,
      PageNo: pageNo,
      PageSize: pageSize,
      TotalCount: all.length,
      Instances: page.map((i) => ({
        InstanceId: i.instanceId,
        InstanceName: i.instanceName,
        InstanceSpecification: i.specification,
        InstanceStatus: i.status,
        RegionId: i.regionId,
        CreateTime: String(i.createTime),
        ModifiedTime: String(i.createTime),
        ResourceGroupId: 'rg-emulator',
        Tags: [],
      })),
    };
  };

  const listInstanceEndpoint = (c: ApiCall): Record<string, unknown> => {
    const inst = findInstanceOrFail(c.region, requireParam(c.params, 'InstanceId'), c.caller);
    const moduleName = c.params.get('ModuleName') || 'Registry';
    if (moduleName !== 'Registry' && moduleName !== 'Chart') throw new BizError('PARAM_INVALID', 'ModuleName is invalid.');
    const label = moduleName === 'Registry' ? 'registry' : 'chart';
    const user = inst.userDomains.map((d) => ({ Domain: d, Type: 'USER' }));
    const endpoint = (type: 'internet' | 'vpc', enabled: boolean, host: string): Record<string, unknown> => ({
      EndpointType: type,
      Enable: enabled,
      Status: enabled ? 'RUNNING' : 'STOPPED',
      AclEnable: false,
      AclEntries: [],
      LinkedVpcs: [],
      Domains: [{ Domain: host, Type: 'SYSTEM' }, ...user],
    });
    return {
      Code: 'success',
      IsSuccess: true,
      RequestId: c.requestId,
      Endpoints: [
        endpoint('internet', inst.internetEndpointEnabled, `${inst.instanceName}-${label}.${c.region}.cr.aliyuncs.com`),
        endpoint('vpc', inst.vpcEndpointEnabled, `${inst.instanceName}-${label}-vpc.${c.region}.cr.aliyuncs.com`),
      ],
    };
  };

  const personalToken = (c: ApiCall): Record<string, unknown> => {
    const token = state.issueRegistryToken({ apiVersion: ROA_VERSION, instanceId: null, regionId: c.region, caller: c.caller });
    return { data: { authorizationToken: token.password, tempUserName: token.username, expireDate: token.expiresAt }, requestId: c.requestId };
  };

  // --- request pipeline -----------------------------------------------------------------

  const handlerFor = (region: string) => async (req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> => {
    const { body, method, path, query, headers, header } = await parseRequest(req);
    const requestId = state.newRequestId();
    // Legacy v1 RPC requests carry Signature as a parameter (openapi-client also sends the
    // x-acs-action/version headers for them); everything else is judged as V3.
    const isV3 = header('authorization') !== undefined || !query.has('Signature');
    const action = header('x-acs-action') ?? query.get('Action') ?? '';
    const version = header('x-acs-version') ?? query.get('Version') ?? '';
    let accessKeyId: string | undefined;

    const log = (status: number, code?: string, faulted?: boolean): void =>
      state.recordCall({
        server: 'cr',
        region,
        action: action || path,
        apiVersion: version,
        method,
        path,
        status,
        ...(accessKeyId !== undefined ? { accessKeyId } : {}),
        ...(code !== undefined ? { code } : {}),
        ...(faulted ? { faulted } : {}),
      });
    const popError = (status: number, code: string, message: string, extra: Record<string, unknown> = {}, faulted = false): void => {
      log(status, code, faulted);
      sendJson(
        res,
        status,
        {
          RequestId: requestId,
          HostId: `cr.${region}.aliyuncs.com`,
          Code: code,
          Message: message,
          Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(code)}&product=cr&requestId=${requestId}`,
          ...extra,
        },
        { 'x-acs-request-id': requestId },
      );
    };
    const bizError = (status: number, code: string, message: string, faulted = false): void => {
      log(status, code, faulted);
      sendJson(res, status, { RequestId: requestId, IsSuccess: false, Code: code, Message: message }, { 'x-acs-request-id': requestId });
    };

    // Faults come first: throttling and outages happen before the gateway looks at anything.
    const fault = state.faults.take('cr', (key) => key === '*' || key === action || key === path, region);
    if (fault) {
      if (await delayOrReset(fault, req, signal)) {
        log(0, 'ConnectionReset', true);
        return;
      }
      if (fault.throttle) return popError(400, fault.code ?? 'Throttling.User', fault.message ?? 'Request was denied due to user flow control.', {}, true);
      if (fault.isSuccessFalse) return bizError(200, fault.isSuccessFalse.code, fault.isSuccessFalse.message ?? 'emulated failure', true);
      if (fault.status !== undefined) {
        const code = fault.code ?? (fault.status === 503 ? 'ServiceUnavailable' : fault.status >= 500 ? 'InternalError' : 'EmulatedFault');
        return popError(fault.status, code, fault.message ?? 'The request processing has failed due to some unknown error.', {}, true);
      }
      if (fault.malformedJson) {
        log(200, undefined, true);
        return sendTruncatedJson(res, { RequestId: requestId, IsSuccess: true, Code: 'success', Truncated: 'x'.repeat(40) });
      }
      // delay-only fault: carry on normally.
    }

    // Which API is this?
    const isRoaTokens = path === '/tokens';
    if (!action) return popError(400, 'MissingAction', 'Action is mandatory for this request.');
    if (isRoaTokens) {
      if (version !== ROA_VERSION || action !== 'GetAuthorizationToken' || method !== 'GET') {
        return popError(404, 'InvalidAction.NotFound', 'Specified api is not found, please check your url and method.');
      }
    } else if (path !== '/') {
      return popError(404, 'InvalidAction.NotFound', 'Specified api is not found, please check your url and method.');
    } else if (version !== RPC_VERSION) {
      return popError(400, 'InvalidVersion', `Specified parameter Version "${version}" is not valid.`);
    } else if (!RPC_ACTIONS.has(action)) {
      return popError(404, 'InvalidAction.NotFound', 'Specified api is not found, please check your url and method.');
    }

    // RPC parameters travel in the query (V3 SDK) or a form body (v1 allows it).
    const params = new Map<string, string>(query);
    const contentType = header('content-type') ?? '';
    if (contentType.startsWith('application/x-www-form-urlencoded')) {
      for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.set(k, v);
    }

    // Authentication.
    const lookup = (id: string): string | undefined => state.lookupAccessKey(id)?.accessKeySecret;
    let token: string | undefined;
    if (isV3) {
      const r = verifyAcs3Request({ method, path, query, headers, body }, lookup, { nonces: state.nonces });
      accessKeyId = r.accessKeyId;
      if (!r.ok) return popError(r.status, r.code, r.message);
      token = r.securityToken;
      const akHeader = header('x-acs-accesskey-id');
      if (akHeader !== undefined && akHeader !== r.accessKeyId) {
        return popError(400, 'InvalidAccessKeyId.Mismatch', 'x-acs-accesskey-id does not match the signing AccessKeyId.');
      }
    } else {
      const pairs = [...query, ...(contentType.startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(body.toString('utf8')) : [])];
      const r = verifyRpcV1Request(method, pairs, lookup, { nonces: state.nonces });
      accessKeyId = r.accessKeyId;
      if (!r.ok) return popError(r.status, r.code, r.message);
      token = r.securityToken;
    }
    const caller = state.lookupAccessKey(accessKeyId ?? '');
    if (!caller) return popError(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
    if (caller.kind === 'sts') {
      if (token === undefined || token === '') return popError(400, 'MissingSecurityToken', 'SecurityToken is mandatory for this action.');
      if (token !== caller.securityToken) return popError(400, 'InvalidSecurityToken.MismatchWithAccessKey', 'Specified SecurityToken mismatch with the AccessKey.');
      if ((caller.expiresAt ?? 0) <= state.now()) return popError(400, 'InvalidSecurityToken.Expired', 'Specified SecurityToken is expired.');
    } else if (token !== undefined && token !== '') {
      return popError(400, 'InvalidSecurityToken.MismatchWithAccessKey', 'Specified SecurityToken mismatch with the AccessKey.');
    }

    // Authorization (RAM), by action and, for policies scoped to instances, by InstanceId.
    if (state.isDenied(caller.identity, action) || (!isRoaTokens && state.isDeniedForInstance(caller.identity, action, params.get('InstanceId')))) {
      const sts = caller.kind === 'sts';
      return popError(403, 'Forbidden.RAM', "User not authorized to operate on the specified resource, or this API doesn't support RAM.", {
        AccessDeniedDetail: {
          PolicyType: 'AccountLevelIdentityBasedPolicy',
          AuthPrincipalOwnerId: '1234567890123456',
          EncodedDiagnosticMessage: Buffer.from(`deny ${caller.identity} cr:${action}`).toString('base64'),
          AuthPrincipalType: sts ? 'AssumedRoleUser' : 'SubUser',
          AuthPrincipalDisplayName: sts ? `${caller.identity.replace(/^role\//, '')}:session` : caller.identity,
          NoPermissionType: 'ImplicitDeny',
          AuthAction: `cr:${action}`,
        },
      });
    }

    const call: ApiCall = { region, action, version, params, caller, requestId };
    try {
      const result = isRoaTokens
        ? personalToken(call)
        : action === 'GetAuthorizationToken'
          ? getAuthorizationToken(call)
          : action === 'ListInstance'
            ? listInstance(call)
            : listInstanceEndpoint(call);
      log(200);
      sendJson(res, 200, result, { 'x-acs-request-id': requestId });
    } catch (err) {
      if (err instanceof PopError) return popError(err.status, err.code, err.message, err.extra);
      if (err instanceof BizError) return bizError(err.status, err.code, err.message);
      throw err;
    }
  };

  const servers = new Map<string, RunningServer>();
  try {
    for (const region of opts.regions) servers.set(region, await startHttpServer(handlerFor(region)));
  } catch (err) {
    await Promise.all([...servers.values()].map((s) => s.close()));
    throw err;
  }

  return {
    endpoints: () => Object.fromEntries([...servers].map(([region, s]) => [region, s.url])),
    injectFault: (action, fault, region) => state.faults.add('cr', action, fault, region),
    close: async () => {
      await Promise.all([...servers.values()].map((s) => s.close()));
    },
  };
}
