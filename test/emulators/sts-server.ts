// STS 2015-04-01 emulator (the global sts.aliyuncs.com endpoint) on 127.0.0.1:<port>. Strict per
// action about the wire form: it accepts exactly what the official clients send (proven by
// test/emulators/sts-wire.test.ts, which drives it with those clients), so a regression in how we
// call STS cannot pass against it.
// - AssumeRole, signed: ACS3 (Authorization header, action in x-acs-action; what the generated
//   TypeScript SDK @alicloud/sts20150401 1.2.0 sends through callApi) or the legacy RPC HMAC-SHA1
//   signature (Signature query parameter; the Go SDK, which forces signature v2 for STS, and
//   @alicloud/credentials' RAM role ARN provider). The caller must be a principal of the role's
//   trust policy (identity or whole account) and meet its sts:ExternalId condition.
// - AssumeRoleWithOIDC, anonymous: the RPC form only. Action, Version, Format and Timestamp are
//   query parameters (SignatureNonce optional), the API parameters in the query or an
//   x-www-form-urlencoded body, no signature at all: what the TypeScript SDK sends through
//   doRPCRequest(..., 'Anonymous', ...), what @alicloud/credentials' OIDC provider and ack-ram-tool
//   build by hand. The anonymous ACS3 form (action only in the x-acs-action header) is refused
//   with MissingParameter: whether the real STS accepts it is unknown, so nothing may rely on it.
//   The OIDC token must be an RS256 JWT signed by the named provider's key, with its issuer, an
//   accepted audience, not expired, and a subject the role's trust policy allows.
// Issued sessions are CloudState STS keys of the role's identity, so the CR emulator accepts
// them and scopes instances by the role's account. Calls go to the shared call log, with the wire
// form they arrived in.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { accountOf, type CloudState, type RamRole } from './cloud-state.ts';
import type { FaultSpec } from './faults.ts';
import { delayOrReset, parseRequest, sendJson, startHttpServer } from './http-util.ts';
import { imdsTime } from './imds-server.ts';
import { verifyJwt } from './oidc-tokens.ts';
import { verifyRpcV1Request } from './signature-rpc-v1.ts';
import { DEFAULT_MAX_SKEW_MS, verifyAcs3Request } from './signature-v3.ts';

export interface StsServer {
  url: string;
  /** `action`: 'AssumeRole', 'AssumeRoleWithOIDC' or '*'. */
  injectFault(action: string, fault: FaultSpec): void;
  close(): Promise<void>;
}

const VERSION = '2015-04-01';
const RPC_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** How a request is put together: signed RPC (v1), unsigned RPC, or ACS3 (signed or not). */
export type StsWire = 'rpc-v1' | 'rpc-anonymous' | 'acs3';
const SESSION_NAME = /^[A-Za-z0-9.@_-]{2,64}$/;

class StsError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Why a request is not the anonymous RPC form the official clients send, if it is not. */
function anonymousRpcProblem(wire: StsWire, query: URLSearchParams, authorization: string | undefined, now: number): { code: string; message: string } | undefined {
  if (wire === 'rpc-v1' || authorization !== undefined || query.has('AccessKeyId')) {
    return { code: 'InvalidParameter', message: 'AssumeRoleWithOIDC is an anonymous API: the request must not be signed.' };
  }
  for (const name of ['Action', 'Version', 'Format', 'Timestamp']) {
    if (!query.get(name)) return { code: 'MissingParameter', message: `The input parameter "${name}" that is mandatory for processing this request is not supplied (AssumeRoleWithOIDC is an anonymous RPC API: common parameters go in the query string).` };
  }
  if ((query.get('Format') ?? '').toUpperCase() !== 'JSON') return { code: 'InvalidParameter', message: 'Format must be JSON.' };
  const ts = query.get('Timestamp') ?? '';
  if (!RPC_TIMESTAMP.test(ts)) return { code: 'InvalidTimeStamp.Format', message: `Timestamp "${ts}" is not YYYY-MM-DDTHH:MM:SSZ.` };
  if (Math.abs(Date.parse(ts) - now) > DEFAULT_MAX_SKEW_MS) return { code: 'InvalidTimeStamp.Expired', message: `Timestamp ${ts} is outside the allowed window.` };
  return undefined;
}

export async function startStsServer(opts: { state: CloudState }): Promise<StsServer> {
  const { state } = opts;

  const durationFor = (params: Map<string, string>, role: RamRole): number => {
    const raw = params.get('DurationSeconds');
    if (raw === undefined || raw === '') return 3600;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 900 || n > role.maxSessionDurationSeconds) {
      throw new StsError(400, 'InvalidParameter.DurationSeconds', `The Min/Max value of DurationSeconds is 15min/${role.maxSessionDurationSeconds / 3600}hr.`);
    }
    return n;
  };

  const roleFor = (params: Map<string, string>): RamRole => {
    const arn = params.get('RoleArn') ?? '';
    if (!arn) throw new StsError(400, 'MissingRoleArn', 'RoleArn is mandatory for this action.');
    const role = state.findRole(arn);
    if (!role) throw new StsError(404, 'EntityNotExist.Role', `The specified Role not exists: ${arn}.`);
    return role;
  };

  const sessionNameOf = (params: Map<string, string>): string => {
    const name = params.get('RoleSessionName') ?? '';
    if (!SESSION_NAME.test(name)) throw new StsError(400, 'InvalidParameter.RoleSessionName', 'The parameter RoleSessionName is wrongly formed.');
    return name;
  };

  const issue = (role: RamRole, sessionName: string, seconds: number, requestId: string): Record<string, unknown> => {
    const creds = state.issueSts(role.identity, seconds * 1000);
    return {
      RequestId: requestId,
      AssumedRoleUser: { Arn: `acs:ram::${role.accountId}:assumed-role/${role.name}/${sessionName}`, AssumedRoleId: `3${creds.accessKeyId.slice(4, 20)}:${sessionName}` },
      Credentials: { AccessKeyId: creds.accessKeyId, AccessKeySecret: creds.accessKeySecret, SecurityToken: creds.securityToken, Expiration: imdsTime(creds.expiresAt) },
    };
  };

  const handler = async (req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> => {
    const { body, method, path, query, headers, header } = await parseRequest(req);
    const params = new Map<string, string>(query);
    if ((header('content-type') ?? '').startsWith('application/x-www-form-urlencoded')) {
      for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.set(k, v);
    }
    // RPC requests name the action in the query; ACS3 ones in the x-acs-action header only.
    const wire: StsWire = query.has('Signature') ? 'rpc-v1' : query.has('Action') && header('authorization') === undefined ? 'rpc-anonymous' : 'acs3';
    const action = (wire === 'acs3' ? header('x-acs-action') : query.get('Action')) ?? '';
    const version = (wire === 'acs3' ? header('x-acs-version') : query.get('Version')) ?? '';
    const requestId = state.newRequestId();
    const extra: { accessKeyId?: string; roleArn?: string; sessionName?: string; subject?: string } = {};
    if (params.get('RoleArn')) extra.roleArn = params.get('RoleArn') as string;
    if (params.get('RoleSessionName')) extra.sessionName = params.get('RoleSessionName') as string;
    const log = (status: number, code?: string, faulted?: boolean): void =>
      state.recordCall({ server: 'sts', region: 'global', action: action || path, apiVersion: version, method, path, status, wire, ...extra, ...(code !== undefined ? { code } : {}), ...(faulted ? { faulted } : {}) });
    const fail = (status: number, code: string, message: string, faulted = false): void => {
      log(status, code, faulted);
      sendJson(res, status, { RequestId: requestId, HostId: 'sts.aliyuncs.com', Code: code, Message: message, Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(code)}&product=Sts` });
    };

    const fault = state.faults.take('sts', (key) => key === '*' || key === action);
    if (fault) {
      if (await delayOrReset(fault, req, signal)) {
        log(0, 'ConnectionReset', true);
        return;
      }
      if (fault.throttle) return fail(400, fault.code ?? 'Throttling.User', fault.message ?? 'Request was denied due to user flow control.', true);
      if (fault.status !== undefined) return fail(fault.status, fault.code ?? (fault.status >= 500 ? 'InternalError' : 'EmulatedFault'), fault.message ?? 'emulated failure', true);
    }

    if (path !== '/' || method !== 'POST') return fail(404, 'InvalidAction.NotFound', 'Specified api is not found, please check your url and method.');
    if (version !== VERSION) return fail(400, 'InvalidVersion', `Specified parameter Version "${version}" is not valid.`);
    try {
      if (action === 'AssumeRole') {
        // Authentication, as the POP gateway does it for any signed call, in either signature.
        const lookup = (id: string): string | undefined => state.lookupAccessKey(id)?.accessKeySecret;
        const r = wire === 'acs3' ? verifyAcs3Request({ method, path, query, headers, body }, lookup, { nonces: state.nonces }) : verifyRpcV1Request(method, [...params], lookup, { nonces: state.nonces });
        if (r.accessKeyId !== undefined) extra.accessKeyId = r.accessKeyId;
        if (!r.ok) return fail(r.status, r.code, r.message);
        const caller = state.lookupAccessKey(r.accessKeyId);
        if (!caller) return fail(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
        if (caller.kind === 'sts') {
          if (r.securityToken !== caller.securityToken) return fail(400, 'InvalidSecurityToken.MismatchWithAccessKey', 'Specified SecurityToken mismatch with the AccessKey.');
          if ((caller.expiresAt ?? 0) <= state.now()) return fail(400, 'InvalidSecurityToken.Expired', 'Specified SecurityToken is expired.');
        }
        const role = roleFor(params);
        const sessionName = sessionNameOf(params);
        const seconds = durationFor(params, role);
        const principals = role.trust.principals ?? [];
        if (!principals.includes(caller.identity) && !principals.includes(accountOf(caller.identity))) {
          return fail(403, 'NoPermission', 'You are not authorized to do this action. You should be authorized by RAM. (No permission perform sts:AssumeRole on this Role: the caller is not a principal of its trust policy.)');
        }
        if (role.trust.externalId !== undefined && params.get('ExternalId') !== role.trust.externalId) {
          return fail(403, 'NoPermission', 'No permission perform sts:AssumeRole on this Role: the sts:ExternalId condition of its trust policy is not satisfied.');
        }
        const result = issue(role, sessionName, seconds, requestId);
        log(200);
        return sendJson(res, 200, result);
      }
      if (action === 'AssumeRoleWithOIDC') {
        const problem = anonymousRpcProblem(wire, query, header('authorization'), state.now());
        if (problem) return fail(400, problem.code, problem.message);
        const token = params.get('OIDCToken') ?? '';
        if (!token) return fail(401, 'AuthenticationFail.OIDCToken.Invalid', 'The OIDCToken can not empty.');
        const provider = state.findOidcProvider(params.get('OIDCProviderArn') ?? '');
        if (!provider) return fail(401, 'AuthenticationFail.NoPermission', 'No such OIDC Provider registered.');
        const role = roleFor(params);
        const sessionName = sessionNameOf(params);
        const seconds = durationFor(params, role);
        const checked = verifyJwt(token, provider.publicKey, state.now());
        if (!checked.ok) return fail(401, checked.code, checked.message);
        const { claims } = checked;
        if (typeof claims.sub === 'string') extra.subject = claims.sub;
        if (claims.iss !== provider.issuer) return fail(401, 'AuthenticationFail.OIDCToken.IssuerNotMatch', 'Invalid issuer.');
        const audiences = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
        const trust = role.trust.oidc;
        const allowedAud = trust?.audiences ?? provider.clientIds;
        if (!audiences.some((a) => provider.clientIds.includes(a as string) && allowedAud.includes(a as string))) {
          return fail(401, 'AuthenticationFail.OIDCToken.AudienceNotMatch', 'Invalid audience.');
        }
        const subjectOk = (trust?.subjects ?? ['*']).some((p) => (p.endsWith('*') ? String(claims.sub).startsWith(p.slice(0, -1)) : claims.sub === p));
        if (!trust || trust.providerArn !== provider.arn || !subjectOk) return fail(401, 'AuthenticationFail.NoPermission', 'There is no permission.');
        const result = issue(role, sessionName, seconds, requestId);
        result.OIDCTokenInfo = { Issuer: provider.issuer, Subject: claims.sub, ClientIds: audiences.join(','), IssuanceTime: '', ExpirationTime: '', VerificationInfo: 'Success' };
        log(200);
        return sendJson(res, 200, result);
      }
      return fail(404, 'InvalidAction.NotFound', 'Specified api is not found, please check your url and method.');
    } catch (error) {
      if (error instanceof StsError) return fail(error.status, error.code, error.message);
      throw error;
    }
  };

  const server = await startHttpServer(handler);
  return {
    url: server.url,
    injectFault: (action, fault) => state.faults.add('sts', action, fault),
    close: () => server.close(),
  };
}
