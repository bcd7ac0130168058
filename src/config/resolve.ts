// Turns config file + flags + environment into one resolved ProviderConfig. Precedence: flags,
// then environment, then the config file, then defaults.
import { ProviderError } from '../errors.ts';
import type { CredentialSettings } from '../identity/identity-key.ts';
import { OIDC_PROVIDER_ARN } from '../identity/ram-names.ts';
import { parseGoDuration } from '../kubelet/go-duration.ts';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../log/logger.ts';
import { isValidRegionId } from '../region-id.ts';
import { isGoDuration, isHttpUrl, type ConfigFile, type RegistryEntry } from './schema.ts';

export const DEFAULT_CACHE_DIR = '/var/lib/aliyun-acr-credential-provider';
export const DEFAULT_METADATA_ENDPOINT = 'http://100.100.100.200';
export const DEFAULT_EXPIRING_THRESHOLD_MS = 15 * 60_000;
/** The shortest token life (1 h) minus 10 minutes of use. */
export const MAX_EXPIRING_THRESHOLD_MS = 50 * 60_000;
export const DEFAULT_TIMEOUT_MS = 30_000;
/** The kubelet kills a plugin after 60 s; leave room for start-up and writing the answer. */
export const MAX_TIMEOUT_MS = 55_000;

export type CrNetwork = 'public' | 'vpc';

/** What ACK RRSA trust policies expect (oidc:aud). */
export const DEFAULT_SA_AUDIENCE = 'sts.aliyuncs.com';
/** The annotation ack-pod-identity-webhook reads. */
export const DEFAULT_ROLE_ANNOTATION = 'pod-identity.alibabacloud.com/role-name';
export const DEFAULT_SESSION_SECONDS = 3600;
/** Registries served within this long are kept warm by the pre-warmer (src/prewarm). */
export const DEFAULT_PREWARM_SERVED_WITHIN_MS = 24 * 3600_000;

export interface ProviderConfig {
  configFile?: string;
  cacheDir: string;
  expiringThresholdMs: number;
  timeoutMs: number;
  logLevel: LogLevel;
  /** Log line format on stderr and in the log file. */
  logFormat: LogFormat;
  /** Optional log file (size-rotated, 0600) that gets every line at logLevel. */
  logFile?: { path: string; maxBytes?: number; maxFiles?: number };
  /** allowV1OnTokenFailure: a timeout or 5xx on the token PUT falls back to v1 (the SDKs' rule). */
  metadata: { endpoint: string; roleName?: string; disableIMDSv1: boolean; allowV1OnTokenFailure?: boolean };
  /** tokenExpiresInHours: sent as GetAuthorizationToken's ExpiresInHours; unset, the API's default (1 h). */
  cr: { network: CrNetwork; endpointTemplate?: string; endpointMap: Record<string, string>; tokenExpiresInHours?: number };
  registries: RegistryEntry[];
  credentials: CredentialSettings;
  /** endpoint: a fixed URL or a {region} template; unset means the Alibaba endpoint for `network`. */
  sts: { network: CrNetwork; endpoint?: string; regionId?: string };
  serviceAccount: { oidcProviderArn?: string; accountId?: string; audience: string; roleAnnotation: string; durationSeconds: number };
  prewarm: { enabled: boolean; servedWithinMs: number };
}

/** Global flags as strings, exactly as the user typed them. */
export interface FlagValues {
  config?: string;
  cacheDir?: string;
  expiringThreshold?: string;
  timeout?: string;
  logLevel?: string;
  logFormat?: string;
  logFile?: string;
  metadataEndpoint?: string;
  crEndpoint?: string[];
  network?: string;
}

export function resolveConfig(file: ConfigFile, flags: FlagValues, env: NodeJS.ProcessEnv): ProviderConfig {
  const threshold = flagDuration('--expiring-threshold', flags.expiringThreshold) ?? durationOrUndefined(file.expiringThreshold);
  const timeout = flagDuration('--timeout', flags.timeout) ?? durationOrUndefined(file.timeout);
  const config: ProviderConfig = {
    cacheDir: flags.cacheDir ?? file.cacheDir ?? DEFAULT_CACHE_DIR,
    expiringThresholdMs: threshold ?? DEFAULT_EXPIRING_THRESHOLD_MS,
    timeoutMs: timeout ?? DEFAULT_TIMEOUT_MS,
    logLevel: flagChoice('--log-level', flags.logLevel, LOG_LEVELS) ?? file.logLevel ?? 'warn',
    logFormat: flagChoice('--log-format', flags.logFormat, LOG_FORMATS) ?? file.logFormat ?? 'text',
    metadata: {
      endpoint: trimSlash(
        flagUrl('--metadata-endpoint', flags.metadataEndpoint) ??
          envUrl('ALIBABA_CLOUD_IMDS_ENDPOINT', env.ALIBABA_CLOUD_IMDS_ENDPOINT) ??
          file.metadata?.endpoint ??
          DEFAULT_METADATA_ENDPOINT,
      ),
      roleName: nonEmpty(env.ALIBABA_CLOUD_ECS_METADATA) ?? file.metadata?.roleName,
      disableIMDSv1: env.ALIBABA_CLOUD_IMDSV1_DISABLED?.toLowerCase() === 'true' || file.metadata?.disableIMDSv1 === true,
    },
    cr: {
      network: flagChoice('--network', flags.network, ['public', 'vpc'] as const) ?? file.cr?.network ?? 'public',
      endpointMap: {},
    },
    registries: file.registries ?? [],
    credentials: resolveCredentials(file, env),
    sts: resolveSts(file, env, flagChoice('--network', flags.network, ['public', 'vpc'] as const) ?? file.cr?.network ?? 'public'),
    serviceAccount: resolveServiceAccount(file),
    prewarm: { enabled: file.prewarm?.enabled ?? true, servedWithinMs: durationOrUndefined(file.prewarm?.servedWithin) ?? DEFAULT_PREWARM_SERVED_WITHIN_MS },
  };
  if (flags.config !== undefined) config.configFile = flags.config;
  const logFile = flags.logFile ?? file.logFile;
  if (logFile !== undefined) {
    if (!logFile.startsWith('/')) throw configError(`--log-file: expected an absolute path, got "${logFile}"`);
    config.logFile = { path: logFile };
    if (file.logFileMaxBytes !== undefined) config.logFile.maxBytes = file.logFileMaxBytes;
    if (file.logFileMaxFiles !== undefined) config.logFile.maxFiles = file.logFileMaxFiles;
  }
  if (file.metadata?.allowV1OnTokenFailure === true) {
    if (config.metadata.disableIMDSv1) throw configError('metadata.allowV1OnTokenFailure asks for the tokenless protocol that metadata.disableIMDSv1 (or ALIBABA_CLOUD_IMDSV1_DISABLED) forbids: set only one');
    config.metadata.allowV1OnTokenFailure = true;
  }
  applyCrEndpoints(config, file, flags.crEndpoint);
  if (file.cr?.tokenExpiresInHours !== undefined) config.cr.tokenExpiresInHours = file.cr.tokenExpiresInHours;
  checkRanges(config);
  return config;
}

function resolveCredentials(file: ConfigFile, env: NodeJS.ProcessEnv): ProviderConfig['credentials'] {
  const c: ProviderConfig['credentials'] = { source: file.credentials?.source ?? 'auto' };
  // The Alibaba tools' variables win over the file, as everywhere else.
  const profile = nonEmpty(env.ALIBABA_CLOUD_PROFILE) ?? file.credentials?.profile;
  const path = nonEmpty(env.ALIBABA_CLOUD_CREDENTIALS_FILE) ?? file.credentials?.file;
  if (profile !== undefined) c.profile = profile;
  if (path !== undefined) {
    if (!path.startsWith('/')) throw configError(`ALIBABA_CLOUD_CREDENTIALS_FILE: expected an absolute path, got "${path}"`);
    c.file = path;
  }
  return c;
}

function resolveSts(file: ConfigFile, env: NodeJS.ProcessEnv, crNetwork: CrNetwork): ProviderConfig['sts'] {
  // ACK's pod-identity webhook names the variable ALIBABA_CLOUD_STS_ENDPOINT; accept a bare host too.
  const fromEnv = envUrl('ALIBABA_CLOUD_STS_ENDPOINT', env.ALIBABA_CLOUD_STS_ENDPOINT, 'https');
  const sts: ProviderConfig['sts'] = { network: file.sts?.network ?? crNetwork };
  const endpoint = fromEnv ?? file.sts?.endpoint;
  if (endpoint !== undefined) sts.endpoint = trimSlash(endpoint);
  if (file.sts?.regionId !== undefined) sts.regionId = file.sts.regionId;
  return sts;
}

function resolveServiceAccount(file: ConfigFile): ProviderConfig['serviceAccount'] {
  const f = file.serviceAccount ?? {};
  const sa: ProviderConfig['serviceAccount'] = {
    audience: f.audience ?? DEFAULT_SA_AUDIENCE,
    roleAnnotation: f.roleAnnotation ?? DEFAULT_ROLE_ANNOTATION,
    durationSeconds: f.durationSeconds ?? DEFAULT_SESSION_SECONDS,
  };
  if (f.oidcProviderArn !== undefined) sa.oidcProviderArn = f.oidcProviderArn;
  // The role ARNs built from annotations live in the OIDC provider's account unless told otherwise.
  const account = f.accountId ?? OIDC_PROVIDER_ARN.exec(f.oidcProviderArn ?? '')?.[1];
  if (account !== undefined) sa.accountId = account;
  const needsProvider = (file.registries ?? []).some((r) => r.identity === 'serviceAccount');
  if (needsProvider && sa.oidcProviderArn === undefined) {
    throw configError('a registries entry uses identity: serviceAccount: set serviceAccount.oidcProviderArn (acs:ram::<uid>:oidc-provider/ack-rrsa-<clusterId>)');
  }
  return sa;
}

function applyCrEndpoints(config: ProviderConfig, file: ConfigFile, flagValues: string[] | undefined): void {
  const fromFile = file.cr?.endpoint;
  if (typeof fromFile === 'string') config.cr.endpointTemplate = fromFile;
  else if (fromFile) Object.assign(config.cr.endpointMap, fromFile);
  for (const value of flagValues ?? []) {
    const region = value.slice(0, Math.max(0, value.indexOf('=')));
    const mapped = isValidRegionId(region);
    const url = mapped ? value.slice(region.length + 1) : value;
    if (!isHttpUrl(url.replaceAll('{region}', 'region'))) {
      throw configError(`--cr-endpoint: expected a URL (optionally with {region}) or region=URL, got "${value}"`);
    }
    if (mapped) config.cr.endpointMap[region] = url;
    else config.cr.endpointTemplate = url;
  }
}

function checkRanges(config: ProviderConfig): void {
  if (config.timeoutMs < 1000 || config.timeoutMs > MAX_TIMEOUT_MS) {
    throw configError(`timeout must be between 1s and 55s (the kubelet kills plugins after 60s)`);
  }
  // Below the shortest token life, whatever cr.tokenExpiresInHours says: Personal Edition tokens
  // (no such parameter) and Enterprise Edition tokens without it live 1 h; a longer threshold would
  // make every such token "short-lived" and refetched every minute. Tokens cut short by an STS
  // session have their own rule (token-entry.ts refreshTime).
  if (config.expiringThresholdMs < 0 || config.expiringThresholdMs > MAX_EXPIRING_THRESHOLD_MS) {
    throw configError('expiringThreshold must be between 0s and 50m (Personal Edition tokens, and Enterprise Edition tokens without cr.tokenExpiresInHours, live 1h)');
  }
}

function flagDuration(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!isGoDuration(value)) throw configError(`${flag}: expected a duration such as "15m" or "30s", got "${value}"`);
  return parseGoDuration(value);
}

function durationOrUndefined(value: string | undefined): number | undefined {
  return value === undefined ? undefined : parseGoDuration(value);
}

function flagChoice<T extends string>(flag: string, value: string | undefined, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) throw configError(`${flag}: expected one of ${choices.join(', ')}, got "${value}"`);
  return value as T;
}

function flagUrl(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!isHttpUrl(value)) throw configError(`${flag}: expected an http:// or https:// URL, got "${value}"`);
  return value;
}

function envUrl(name: string, value: string | undefined, scheme: 'http' | 'https' = 'http'): string | undefined {
  const v = nonEmpty(value);
  if (v === undefined) return undefined;
  // The Alibaba tools accept a bare host here; so do we.
  const withScheme = /^[a-z]+:\/\//i.test(v) ? v : `${scheme}://${v}`;
  if (!isHttpUrl(withScheme)) throw configError(`${name}: expected an ${scheme}:// URL or host, got "${v}"`);
  return withScheme;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function configError(message: string): ProviderError {
  return new ProviderError('config', message);
}
