// Decides, from configuration and the kubelet's request alone (no network, no SDK: this runs on
// the hit path), whose credentials serve one image: the node's identity (optionally assuming a
// role in another account), the pod's ServiceAccount through STS AssumeRoleWithOIDC, a
// node-local credential file, or nobody. It also yields the identity's cache id, so that two
// identities never share a cached token.
import type { AssumeRoleSpec, RegistryEntry } from '../config/schema.ts';
import { ProviderError } from '../errors.ts';
import type { CredentialProviderRequest } from '../kubelet/api.ts';
import { RAM_ROLE_ARN, RAM_ROLE_NAME } from './ram-names.ts';
import { describeIdentity, identityCacheId, identitySourceFrom, shortHash, type CredentialSettings, type IdentitySource } from './identity-key.ts';
import type { AssumeRoleWithOidcInput } from './sts-client.ts';
import { checkTokenUsable, readServiceAccountClaims, type ServiceAccountClaims } from './sa-token.ts';


export interface ServiceAccountSettings {
  oidcProviderArn?: string;
  accountId?: string;
  audience: string;
  roleAnnotation: string;
  durationSeconds: number;
}

export interface IdentityConfig {
  metadata: { roleName?: string };
  credentials: CredentialSettings;
  serviceAccount: ServiceAccountSettings;
}

/** The AssumeRoleWithOIDC call for a pod; `token` is the kubelet-issued JWT (a secret, never logged). */
export interface OidcExchange extends AssumeRoleWithOidcInput {
  claims: ServiceAccountClaims;
}

export type IdentityPlan =
  | { kind: 'node'; source: IdentitySource; assumeRole?: AssumeRoleSpec; id: string; description: string }
  | { kind: 'service-account'; oidc: OidcExchange; assumeRole?: AssumeRoleSpec; id: string; description: string }
  | { kind: 'credential-file'; path: string; description: string }
  | { kind: 'deny'; reason: string };

export function planIdentity(request: CredentialProviderRequest, entry: RegistryEntry | undefined, config: IdentityConfig, env: NodeJS.ProcessEnv, now = Date.now()): IdentityPlan {
  const scoped = entry && (entry.namespaces !== undefined || entry.serviceAccounts !== undefined);
  let claims: ServiceAccountClaims | undefined;
  if (scoped) {
    if (!request.serviceAccountToken) {
      return { kind: 'deny', reason: 'this registry is limited to some namespaces and the request carries no service account token (configure tokenAttributes in the kubelet\'s CredentialProviderConfig)' };
    }
    claims = readServiceAccountClaims(request.serviceAccountToken);
    if (!namespaceAllowed(entry, claims)) {
      return { kind: 'deny', reason: `ServiceAccount ${claims.namespace}/${claims.name} is not in this registry's namespaces or serviceAccounts` };
    }
  }
  if (entry?.credentialFile) return { kind: 'credential-file', path: entry.credentialFile, description: `credential file ${entry.credentialFile}` };
  if (entry?.identity === 'serviceAccount') {
    const token = request.serviceAccountToken;
    const roleArn = token ? roleFor(request, entry, config.serviceAccount) : undefined;
    if (!token || !roleArn) {
      if (entry.fallback === 'node') return nodePlan(entry, config, env);
      return { kind: 'deny', reason: token ? `the ServiceAccount has no "${config.serviceAccount.roleAnnotation}" annotation and the registries entry names no roleName, with fallback: deny` : 'identity: serviceAccount and the request carries no service account token, with fallback: deny' };
    }
    claims ??= readServiceAccountClaims(token);
    checkTokenUsable(claims, config.serviceAccount.audience, now);
    const oidcProviderArn = config.serviceAccount.oidcProviderArn ?? '';
    const oidc: OidcExchange = { roleArn, oidcProviderArn, token, sessionName: sessionNameFor(claims), durationSeconds: config.serviceAccount.durationSeconds, claims };
    // Everything that makes the credential what it is: role, provider, and the ServiceAccount itself.
    const id = `sa-${shortHash([roleArn, oidcProviderArn, claims.namespace, claims.name, claims.uid].join('\0'), 32)}`;
    const plan: IdentityPlan = { kind: 'service-account', oidc, id: withAssumeRole(id, entry.assumeRole), description: `ServiceAccount ${claims.namespace}/${claims.name} as ${roleArn}` };
    if (entry.assumeRole) plan.assumeRole = entry.assumeRole;
    return plan;
  }
  return nodePlan(entry, config, env);
}

function nodePlan(entry: RegistryEntry | undefined, config: IdentityConfig, env: NodeJS.ProcessEnv): IdentityPlan {
  const source = identitySourceFrom(env, config.metadata.roleName, config.credentials);
  const base = identityCacheId(source);
  const description = entry?.assumeRole ? `${entry.assumeRole.roleArn} (assumed by ${describeIdentity(source)})` : describeIdentity(source);
  const plan: IdentityPlan = { kind: 'node', source, id: withAssumeRole(base, entry?.assumeRole), description };
  if (entry?.assumeRole) plan.assumeRole = entry.assumeRole;
  return plan;
}

function withAssumeRole(id: string, assumeRole: AssumeRoleSpec | undefined): string {
  if (!assumeRole) return id;
  const { roleArn, externalId = '', sessionName = '', durationSeconds = 0 } = assumeRole;
  return `${id}-as-${shortHash([roleArn, externalId, sessionName, durationSeconds].join('\0'))}`;
}

export function namespaceAllowed(entry: Pick<RegistryEntry, 'namespaces' | 'serviceAccounts'>, claims: Pick<ServiceAccountClaims, 'namespace' | 'name'>): boolean {
  return (entry.namespaces ?? []).includes(claims.namespace) || (entry.serviceAccounts ?? []).includes(`${claims.namespace}/${claims.name}`);
}

/** The role from the ServiceAccount's annotation (a name, or a full ARN), else the entry's. */
function roleFor(request: CredentialProviderRequest, entry: RegistryEntry, sa: ServiceAccountSettings): string | undefined {
  const annotated = request.serviceAccountAnnotations?.[sa.roleAnnotation]?.trim();
  const annotatedArn = annotated !== undefined && RAM_ROLE_ARN.test(annotated);
  if (annotated && !annotatedArn && !RAM_ROLE_NAME.test(annotated)) {
    throw new ProviderError('input', `the ServiceAccount's "${sa.roleAnnotation}" annotation is not a RAM role name or ARN: fix the annotation`);
  }
  if (annotatedArn) return annotated;
  if (!annotated && entry.roleArn) return entry.roleArn;
  const name = annotated || entry.roleName;
  return name ? `acs:ram::${sa.accountId ?? ''}:role/${name}` : undefined;
}

/** STS wants 2-64 chars of [A-Za-z0-9.@_-]; keep it readable for audit logs, unique by hash. */
export function sessionNameFor(claims: Pick<ServiceAccountClaims, 'namespace' | 'name'>): string {
  const readable = `${claims.namespace}.${claims.name}`.replace(/[^A-Za-z0-9.@_-]/g, '_');
  if (readable.length <= 64 && readable.length >= 2) return readable;
  return `${readable.slice(0, 55)}-${shortHash(`${claims.namespace}/${claims.name}`, 8)}`;
}
