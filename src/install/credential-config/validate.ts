// The kubelet's checks of a CredentialProviderConfig (validateCredentialProviderConfig and the
// strict decoder, docs/reference/kubelet-protocol.md §3.3), run on what we are about to write: a config the kubelet rejects stops
// it from starting. Returns problems as one-line strings, empty when the config is valid.
import { parseGoDuration } from '../../kubelet/go-duration.ts';
import { parseSchemelessUrl } from '../../kubelet/match.ts';
import { acceptedConfigApiVersions, acceptedProviderApiVersions, type KubeletVersion } from '../kubelet/version.ts';

export interface ValidationContext {
  version: KubeletVersion;
  /** KubeletServiceAccountTokenForCredentialProviders is on (default on from 1.34). */
  serviceAccountTokenGate: boolean;
}

const TOP_FIELDS = new Set(['apiVersion', 'kind', 'providers']);
const PROVIDER_FIELDS = new Set(['name', 'matchImages', 'defaultCacheDuration', 'apiVersion', 'args', 'env', 'tokenAttributes']);
const TOKEN_FIELDS = new Set(['serviceAccountTokenAudience', 'cacheType', 'requireServiceAccount', 'requiredServiceAccountAnnotationKeys', 'optionalServiceAccountAnnotationKeys']);
const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/** Validates one config document; `names` collects provider names across a directory. */
export function validateCredentialProviderConfig(doc: unknown, ctx: ValidationContext, names = new Map<string, number>()): string[] {
  const problems: string[] = [];
  if (!isObject(doc)) return ['the config must be a mapping'];
  const configVersions = acceptedConfigApiVersions(ctx.version);
  if (doc['kind'] !== 'CredentialProviderConfig') problems.push(`kind must be CredentialProviderConfig, not ${JSON.stringify(doc['kind'])}`);
  if (typeof doc['apiVersion'] !== 'string' || !configVersions.includes(doc['apiVersion'])) {
    problems.push(`apiVersion ${JSON.stringify(doc['apiVersion'])} is not one kubelet ${ctx.version.text} accepts (${configVersions.join(', ')})`);
  }
  for (const key of Object.keys(doc)) if (!TOP_FIELDS.has(key)) problems.push(`strict decoding error: unknown field "${key}"`);
  const providers = doc['providers'];
  if (!Array.isArray(providers) || providers.length === 0) {
    problems.push('providers: Required value: at least 1 item in plugins is required');
    return problems;
  }
  const isV1Config = doc['apiVersion'] === 'kubelet.config.k8s.io/v1';
  providers.forEach((p, i) => problems.push(...validateProvider(p, i, isV1Config, ctx, names)));
  return problems;
}

function validateProvider(p: unknown, i: number, isV1Config: boolean, ctx: ValidationContext, names: Map<string, number>): string[] {
  const at = `providers[${i}]`;
  if (!isObject(p)) return [`${at}: must be a mapping`];
  const problems: string[] = [];
  for (const key of Object.keys(p)) {
    if (!PROVIDER_FIELDS.has(key) || (key === 'tokenAttributes' && !isV1Config)) problems.push(`strict decoding error: unknown field "${at}.${key}"`);
  }
  const name = p['name'];
  if (typeof name !== 'string' || name === '') problems.push(`${at}.name: Required value`);
  else {
    if (name.includes('/')) problems.push(`${at}.name: provider name cannot contain '/'`);
    if (name.includes(' ')) problems.push(`${at}.name: provider name cannot contain spaces`);
    if (name === '.') problems.push(`${at}.name: provider name cannot be '.'`);
    if (name === '..') problems.push(`${at}.name: provider name cannot be '..'`);
    if (names.has(name)) problems.push(`duplicate provider name "${name}" found in configuration file(s)`);
    names.set(name, (names.get(name) ?? 0) + 1);
  }
  const matchImages = p['matchImages'];
  if (!isStringArray(matchImages) || matchImages.length === 0) problems.push(`${at}.matchImages: Required value: at least 1 item in matchImages is required`);
  else {
    for (const m of matchImages) if (parseSchemelessUrl(m) === undefined) problems.push(`${at}.matchImages: Invalid value: ${JSON.stringify(m)}: match image is invalid`);
  }
  const duration = p['defaultCacheDuration'];
  if (typeof duration !== 'string' || duration === '') problems.push(`${at}.defaultCacheDuration: Required value`);
  else {
    try {
      if (parseGoDuration(duration) < 0) problems.push(`${at}.defaultCacheDuration: Invalid value: ${JSON.stringify(duration)}: must be greater than or equal to 0`);
    } catch {
      problems.push(`${at}.defaultCacheDuration: invalid duration ${JSON.stringify(duration)}`);
    }
  }
  const apiVersion = p['apiVersion'];
  const providerVersions = acceptedProviderApiVersions(ctx.version);
  if (typeof apiVersion !== 'string' || apiVersion === '') problems.push(`${at}.apiVersion: Required value`);
  else if (!providerVersions.includes(apiVersion)) problems.push(`${at}.apiVersion: Unsupported value: ${JSON.stringify(apiVersion)} (kubelet ${ctx.version.text} supports ${providerVersions.join(', ')})`);
  if (p['args'] !== undefined && !isStringArray(p['args'])) problems.push(`${at}.args: must be a list of strings`);
  const env = p['env'];
  if (env !== undefined && !(Array.isArray(env) && env.every((e) => isObject(e) && typeof e['name'] === 'string' && typeof e['value'] === 'string' && Object.keys(e).every((k) => k === 'name' || k === 'value')))) {
    problems.push(`${at}.env: must be a list of {name, value}`);
  }
  if (p['tokenAttributes'] !== undefined && isV1Config) problems.push(...validateTokenAttributes(p['tokenAttributes'], apiVersion, at, ctx));
  return problems;
}

function validateTokenAttributes(t: unknown, providerApiVersion: unknown, at: string, ctx: ValidationContext): string[] {
  const where = `${at}.tokenAttributes`;
  if (!ctx.serviceAccountTokenGate) return [`${where}: Forbidden: tokenAttributes is not supported when KubeletServiceAccountTokenForCredentialProviders feature gate is disabled`];
  if (!isObject(t)) return [`${where}: must be a mapping`];
  const problems: string[] = [];
  const hasCacheType = ctx.version.major > 1 || ctx.version.minor >= 34;
  for (const key of Object.keys(t)) {
    if (!TOKEN_FIELDS.has(key) || (key === 'cacheType' && !hasCacheType)) problems.push(`strict decoding error: unknown field "${where}.${key}"`);
  }
  if (typeof t['serviceAccountTokenAudience'] !== 'string' || t['serviceAccountTokenAudience'] === '') problems.push(`${where}.serviceAccountTokenAudience: Required value`);
  if (typeof t['requireServiceAccount'] !== 'boolean') problems.push(`${where}.requireServiceAccount: Required value`);
  if (providerApiVersion !== 'credentialprovider.kubelet.k8s.io/v1') problems.push(`${where}: Forbidden: tokenAttributes is only supported for credentialprovider.kubelet.k8s.io/v1 API version`);
  const required = t['requiredServiceAccountAnnotationKeys'] ?? [];
  const optional = t['optionalServiceAccountAnnotationKeys'] ?? [];
  if (!isStringArray(required) || !isStringArray(optional)) problems.push(`${where}: annotation keys must be lists of strings`);
  else {
    if (t['requireServiceAccount'] === false && required.length > 0) problems.push(`${where}.requiredServiceAccountAnnotationKeys: Forbidden: required annotation keys need requireServiceAccount: true`);
    for (const list of [required, optional]) {
      const seen = new Set<string>();
      for (const key of list) {
        if (!QUALIFIED_NAME.test(key.toLowerCase())) problems.push(`${where}: Invalid value: ${JSON.stringify(key)}: not a qualified name`);
        if (seen.has(key)) problems.push(`${where}: Duplicate value: ${JSON.stringify(key)}`);
        seen.add(key);
      }
    }
    if (required.some((k) => optional.includes(k))) problems.push(`${where}: annotation keys cannot be both required and optional`);
  }
  if (hasCacheType) {
    const cacheType = t['cacheType'];
    if (cacheType === undefined || cacheType === '') problems.push(`${where}.cacheType: Required value: cacheType is required to be set when tokenAttributes is specified. Supported values are: ServiceAccount, Token`);
    else if (cacheType !== 'ServiceAccount' && cacheType !== 'Token') problems.push(`${where}.cacheType: Unsupported value: ${JSON.stringify(cacheType)}: supported values: "ServiceAccount", "Token"`);
  }
  return problems;
}
