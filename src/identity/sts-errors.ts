// What STS errors mean for the person running the node: each code turned into one line that
// names the role, the identity and the setting to fix. Library messages are not passed on
// verbatim (a malformed body can quote a token).
import { ProviderError } from '../errors.ts';
import { classifyThrown, commonAnswer } from '../net/openapi-errors.ts';

export interface StsCallContext {
  action: 'AssumeRole' | 'AssumeRoleWithOIDC';
  endpointUrl: string;
  roleArn: string;
  /** Who asks: "ECS RAM role x", "ServiceAccount ns/name". */
  caller: string;
  externalIdSet?: boolean;
}

export function classifyStsThrown(error: unknown, ctx: StsCallContext): ProviderError {
  const hint = "check the node's route to it; nodes without internet access need sts.network: vpc (sts-vpc.<region>.aliyuncs.com)";
  return classifyThrown(error, { action: ctx.action, endpointUrl: ctx.endpointUrl, service: 'STS', unreachableHint: hint }, (a) => classifyStsCode(a.code, a.message, a.status, ctx));
}

export function classifyStsCode(code: string | undefined, message: string | undefined, status: number, ctx: StsCallContext): ProviderError {
  const c = code ?? '';
  const detail = `${code ?? `HTTP ${status}`}`;
  const common = commonAnswer({ status, code, message }, ctx.action, detail, ctx.caller);
  if (common) return common;
  if (c.startsWith('EntityNotExist.Role')) {
    return new ProviderError('not-found', `RAM role ${ctx.roleArn} does not exist (${detail}): check the role ARN (account uid and role name)`);
  }
  if (c.startsWith('AuthenticationFail.OIDCToken.AudienceNotMatch')) {
    return new ProviderError('config', `STS rejected the service account token of ${ctx.caller}: wrong audience (${detail}); the kubelet's tokenAttributes.serviceAccountTokenAudience must be an audience of the OIDC provider (ACK RRSA: sts.aliyuncs.com)`);
  }
  if (c.startsWith('AuthenticationFail.OIDCToken.Expired')) {
    return new ProviderError('input', `STS rejected the service account token of ${ctx.caller}: it has expired (${detail}); check the node's clock`);
  }
  if (c.startsWith('AuthenticationFail.OIDCToken')) {
    return new ProviderError('permission', `STS rejected the service account token of ${ctx.caller} (${detail}): the token must be issued by the cluster's RRSA OIDC issuer registered as serviceAccount.oidcProviderArn`);
  }
  if (c === 'AuthenticationFail.NoPermission' || c.startsWith('EntityNotExist.OIDCProvider')) {
    if (/oidc provider/i.test(message ?? '') || c.startsWith('EntityNotExist.OIDCProvider')) {
      return new ProviderError('config', `STS does not know the OIDC provider in serviceAccount.oidcProviderArn (${detail}): enable RRSA on the cluster and use its provider ARN`);
    }
  }
  if (c === 'NoPermission' || c === 'AuthenticationFail.NoPermission' || status === 403) {
    if (ctx.action === 'AssumeRoleWithOIDC') {
      return new ProviderError('permission', `${ctx.caller} may not assume ${ctx.roleArn} (${detail}): the role's trust policy must allow this ServiceAccount (oidc:sub system:serviceaccount:<namespace>:<name>, oidc:aud, oidc:iss)`);
    }
    if (/external ?id/i.test(message ?? '')) {
      return new ProviderError('permission', `${ctx.caller} may not assume ${ctx.roleArn}: the external id ${ctx.externalIdSet ? 'does not match' : 'is required by'} the role's trust policy (${detail}); set assumeRole.externalId to the value in its sts:ExternalId condition`);
    }
    return new ProviderError('permission', `${ctx.caller} may not assume ${ctx.roleArn} (${detail}): add it as a principal to the role's trust policy, and allow it sts:AssumeRole (e.g. AliyunSTSAssumeRoleAccess)`);
  }
  if (c.startsWith('InvalidParameter')) return new ProviderError('config', `${ctx.action} for ${ctx.roleArn} refused a parameter (${detail}): check the role ARN, session name and duration`);
  return new ProviderError('api', `${ctx.action} for ${ctx.roleArn} failed (${detail})`);
}
