// Which identity the cloud calls will use, decided from configuration alone, so the cache-hit
// path can key entries by identity without any network call or SDK. Never contains a secret.
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { ProviderError } from '../errors.ts';

/** credentials.source: where the node's own identity comes from. */
export const CREDENTIAL_SOURCES = ['auto', 'environment', 'ecs-ram-role', 'profile'] as const;
export type CredentialSource = (typeof CREDENTIAL_SOURCES)[number];

export type IdentitySource =
  | { kind: 'environment'; accessKeyId: string; accessKeySecret: string; securityToken?: string }
  | { kind: 'ecs-ram-role'; roleName?: string }
  /** An Alibaba credentials file: ini (~/.alibabacloud/credentials) or the CLI's JSON (~/.aliyun/config.json). */
  | { kind: 'profile'; file: string; format: 'ini' | 'cli'; profile?: string };

export interface CredentialSettings {
  source: CredentialSource;
  profile?: string;
  file?: string;
}

export function identitySourceFrom(env: NodeJS.ProcessEnv, configuredRoleName: string | undefined, settings: CredentialSettings = { source: 'auto' }): IdentitySource {
  const fromEnv = environmentSource(env);
  switch (settings.source) {
    case 'environment':
      if (!fromEnv) throw new ProviderError('config', 'credentials.source is "environment" but ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are not set: set them (kubelet: the provider\'s env in CredentialProviderConfig)');
      return fromEnv;
    case 'profile':
      return profileSource(settings);
    case 'ecs-ram-role':
      return ecsSource(configuredRoleName);
    default:
      if (fromEnv) return fromEnv;
      if (settings.profile !== undefined || settings.file !== undefined) return profileSource(settings);
      return ecsSource(configuredRoleName);
  }
}

function environmentSource(env: NodeJS.ProcessEnv): IdentitySource | undefined {
  const id = env.ALIBABA_CLOUD_ACCESS_KEY_ID?.trim();
  const secret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET?.trim();
  if (!id && !secret) return undefined;
  if (!id || !secret) {
    throw new ProviderError('config', 'set both ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or neither (to use the ECS RAM role)');
  }
  const token = env.ALIBABA_CLOUD_SECURITY_TOKEN?.trim();
  return token ? { kind: 'environment', accessKeyId: id, accessKeySecret: secret, securityToken: token } : { kind: 'environment', accessKeyId: id, accessKeySecret: secret };
}

function ecsSource(roleName: string | undefined): IdentitySource {
  return roleName ? { kind: 'ecs-ram-role', roleName } : { kind: 'ecs-ram-role' };
}

/** A *.json file is the Alibaba Cloud CLI's config; anything else the SDKs' ini credentials file. */
function profileSource(settings: CredentialSettings): IdentitySource {
  let file = settings.file;
  if (file === undefined) {
    // Like the SDKs' default chain: the CLI config first, then the ini file.
    const cli = `${homedir()}/.aliyun/config.json`;
    file = exists(cli) ? cli : `${homedir()}/.alibabacloud/credentials`;
  }
  const format = file.endsWith('.json') ? 'cli' : 'ini';
  if (format === 'cli' && !file.endsWith('/.aliyun/config.json')) {
    // The library reads <home>/.aliyun/config.json and nothing else.
    throw new ProviderError('config', `credentials.file ${file}: an Alibaba Cloud CLI config must be at <dir>/.aliyun/config.json; move it there, or use an ini credentials file`);
  }
  return settings.profile !== undefined ? { kind: 'profile', file, format, profile: settings.profile } : { kind: 'profile', file, format };
}

function exists(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Stable id for cache keys: two identities never share an entry. */
export function identityCacheId(source: IdentitySource): string {
  if (source.kind === 'environment') return `ak-${shortHash(source.accessKeyId)}`;
  if (source.kind === 'profile') {
    // Editing the file (a new key, another account) gives a new identity: old tokens are not reused.
    let version = 'missing';
    try {
      const st = statSync(source.file);
      version = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      // The miss path reports the unreadable file.
    }
    return `profile-${shortHash(`${source.file}\0${source.profile ?? ''}\0${version}`)}`;
  }
  return source.roleName ? `ecs-role-${source.roleName}` : 'ecs-role';
}

export function describeIdentity(source: IdentitySource): string {
  if (source.kind === 'environment') return `AccessKey ${source.accessKeyId.slice(0, 6)}… from the environment`;
  if (source.kind === 'profile') return `profile "${source.profile ?? 'default'}" of ${source.file}`;
  return source.roleName ? `ECS RAM role "${source.roleName}"` : "the ECS instance's RAM role";
}

export function shortHash(text: string, length = 16): string {
  // node:crypto is fetched only here: the common (ECS role) hit path should not load it.
  const { createHash } = process.getBuiltinModule('node:crypto');
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}
