// Schema of the provider's config file. Every object is strict: an unknown key is an error that
// names the key, because a misspelt setting silently ignored is worse than a failed start.
import * as v from 'valibot';
import { CREDENTIAL_SOURCES } from '../identity/identity-key.ts';
import { ACCOUNT_ID, OIDC_PROVIDER_ARN, RAM_ROLE_ARN, RAM_ROLE_NAME } from '../identity/ram-names.ts';
import { parseGoDuration } from '../kubelet/go-duration.ts';
import { LOG_FORMATS, LOG_LEVELS } from '../log/logger.ts';
import { isValidRegionId } from '../region-id.ts';

const goDuration = v.pipe(
  v.string(),
  v.check((s) => isGoDuration(s), 'expected a duration such as "15m" or "30s"'),
);

const httpUrl = v.pipe(
  v.string(),
  v.check((s) => isHttpUrl(s.replaceAll('{region}', 'region')), 'expected an http:// or https:// URL'),
);

const hostName = v.pipe(
  v.string(),
  v.check((s) => /^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(s), 'expected a registry host name, optionally with :port'),
);

const regionId = v.pipe(v.string(), v.check(isValidRegionId, 'expected a region id such as "cn-hangzhou"'));
const roleArn = v.pipe(v.string(), v.regex(RAM_ROLE_ARN, 'expected a RAM role ARN such as "acs:ram::1234567890123456:role/acr-puller"'));
const roleName = v.pipe(v.string(), v.regex(RAM_ROLE_NAME, 'expected a RAM role name'));
// RFC 1123 label, as Kubernetes namespaces are.
const namespaceName = v.pipe(v.string(), v.regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'expected a Kubernetes namespace name'));
const serviceAccountRef = v.pipe(
  v.string(),
  v.regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\/[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'expected "namespace/serviceaccount"'),
);
const sessionDuration = v.pipe(v.number(), v.integer(), v.minValue(900, 'at least 900 seconds'), v.maxValue(43200, 'at most 43200 seconds'));
const absolutePath = v.pipe(v.string(), v.check((s) => s.startsWith('/') && !s.includes('\0'), 'expected an absolute path'));

export const assumeRoleSchema = v.strictObject({
  roleArn,
  externalId: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9=,.@:\/_-]{2,1224}$/, 'expected 2-1224 characters of [A-Za-z0-9=,.@:/_-]'))),
  // STS allows [A-Za-z0-9.@_-], 2-64 chars.
  sessionName: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9.@_-]{2,64}$/, 'expected 2-64 characters of [A-Za-z0-9.@_-]'))),
  durationSeconds: v.optional(sessionDuration),
});

export const registryEntrySchema = v.pipe(
  v.strictObject({
    domains: v.pipe(v.array(hostName), v.minLength(1, 'list at least one domain')),
    instanceId: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9-]+$/, 'expected an instance id such as "cri-xxxx"'))),
    regionId: v.optional(regionId),
    // Whose identity gets the token: the node's (default) or the pod's ServiceAccount (KEP-4412 + RRSA).
    identity: v.optional(v.picklist(['node', 'serviceAccount'])),
    // serviceAccount mode without a role annotation on the ServiceAccount: this role (name or ARN).
    roleName: v.optional(roleName),
    roleArn: v.optional(roleArn),
    // serviceAccount mode, request without a token: the node's identity, or nothing (the safe default).
    fallback: v.optional(v.picklist(['node', 'deny'])),
    namespaces: v.optional(v.array(namespaceName)),
    serviceAccounts: v.optional(v.array(serviceAccountRef)),
    assumeRole: v.optional(assumeRoleSchema),
    credentialFile: v.optional(absolutePath),
  }),
  v.check((e) => !(e.credentialFile && (e.identity === 'serviceAccount' || e.assumeRole || e.instanceId)), 'credentialFile excludes identity: serviceAccount, assumeRole and instanceId'),
  v.check((e) => e.identity === 'serviceAccount' || (e.roleName === undefined && e.roleArn === undefined && e.fallback === undefined), 'roleName, roleArn and fallback apply only to identity: serviceAccount'),
  v.check((e) => !(e.roleName && e.roleArn), 'set roleName or roleArn, not both'),
);

export const configFileSchema = v.strictObject({
  cacheDir: v.optional(v.pipe(v.string(), v.minLength(1))),
  expiringThreshold: v.optional(goDuration),
  timeout: v.optional(goDuration),
  logLevel: v.optional(v.picklist(LOG_LEVELS)),
  logFormat: v.optional(v.picklist(LOG_FORMATS)),
  logFile: v.optional(v.pipe(v.string(), v.check((s) => s.startsWith('/') && !s.includes('\0'), 'expected an absolute path'))),
  logFileMaxBytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(4096, 'at least 4096'))),
  logFileMaxFiles: v.optional(v.pipe(v.number(), v.integer(), v.minValue(2, 'at least 2'), v.maxValue(20, 'at most 20'))),
  metadata: v.optional(
    v.strictObject({
      endpoint: v.optional(httpUrl),
      roleName: v.optional(v.pipe(v.string(), v.minLength(1))),
      disableIMDSv1: v.optional(v.boolean()),
      // A timeout or 5xx on the token PUT falls back to the tokenless protocol (off: an error).
      allowV1OnTokenFailure: v.optional(v.boolean()),
    }),
  ),
  cr: v.optional(
    v.strictObject({
      network: v.optional(v.picklist(['public', 'vpc'])),
      // A template with {region}, or a map region -> URL, for private endpoints and tests.
      endpoint: v.optional(v.union([httpUrl, v.record(regionId, httpUrl)])),
      // GetAuthorizationToken's ExpiresInHours (Enterprise Edition tokens); unset: the API's default.
      tokenExpiresInHours: v.optional(v.pipe(v.number('expected whole hours, 1 to 24'), v.integer('expected whole hours, 1 to 24'), v.minValue(1, 'expected whole hours, 1 to 24'), v.maxValue(24, 'expected whole hours, 1 to 24'))),
    }),
  ),
  registries: v.optional(v.array(registryEntrySchema)),
  // Where the node's own identity comes from (machines outside ECS).
  credentials: v.optional(
    v.strictObject({
      source: v.optional(v.picklist(CREDENTIAL_SOURCES)),
      profile: v.optional(v.pipe(v.string(), v.minLength(1))),
      file: v.optional(absolutePath),
    }),
  ),
  sts: v.optional(
    v.strictObject({
      network: v.optional(v.picklist(['public', 'vpc'])),
      endpoint: v.optional(httpUrl),
      regionId: v.optional(regionId),
    }),
  ),
  // The DaemonSet's pre-warmer (src/prewarm): on unless enabled is false; which registries it keeps warm.
  prewarm: v.optional(
    v.strictObject({
      enabled: v.optional(v.boolean()),
      // Registries the kubelet asked for within this long (besides those listed in registries).
      servedWithin: v.optional(goDuration),
    }),
  ),
  // Cluster-wide settings of the ServiceAccount identity mode (ACK RRSA).
  serviceAccount: v.optional(
    v.strictObject({
      oidcProviderArn: v.optional(v.pipe(v.string(), v.regex(OIDC_PROVIDER_ARN, 'expected an OIDC provider ARN such as "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c123"'))),
      accountId: v.optional(v.pipe(v.string(), v.regex(ACCOUNT_ID, 'expected an account uid (digits)'))),
      audience: v.optional(v.pipe(v.string(), v.minLength(1))),
      roleAnnotation: v.optional(v.pipe(v.string(), v.minLength(1))),
      durationSeconds: v.optional(sessionDuration),
    }),
  ),
});

export type ConfigFile = v.InferOutput<typeof configFileSchema>;
export type RegistryEntry = v.InferOutput<typeof registryEntrySchema>;
export type AssumeRoleSpec = v.InferOutput<typeof assumeRoleSchema>;

export function isGoDuration(s: string): boolean {
  try {
    parseGoDuration(s);
    return true;
  } catch {
    return false;
  }
}

export function isHttpUrl(s: string): boolean {
  try {
    const url = new URL(s);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** Validates parsed file content; returns one line naming the offending key on failure. */
export function validateConfigFile(input: unknown): { ok: true; config: ConfigFile } | { ok: false; problem: string } {
  if (input === null || input === undefined) return { ok: true, config: {} };
  if (typeof input !== 'object' || Array.isArray(input)) return { ok: false, problem: 'the top level must be a mapping' };
  const result = v.safeParse(configFileSchema, input);
  if (result.success) return { ok: true, config: result.output };
  const issue = result.issues[0];
  const path = (issue.path ?? []).map((p) => String(p.key)).join('.');
  if (issue.type === 'strict_object' && issue.expected === 'never') return { ok: false, problem: `unknown key "${path}"` };
  return { ok: false, problem: `${path || 'config'}: ${issue.message}` };
}
