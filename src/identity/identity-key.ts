// Which identity the cloud calls will use, decided from configuration alone, so the cache-hit
// path can key entries by identity without any network call or SDK. Never contains a secret.
import { ProviderError } from '../errors.ts';

export type IdentitySource =
  | { kind: 'environment'; accessKeyId: string; accessKeySecret: string; securityToken?: string }
  | { kind: 'ecs-ram-role'; roleName?: string };

export function identitySourceFrom(env: NodeJS.ProcessEnv, configuredRoleName: string | undefined): IdentitySource {
  const id = env.ALIBABA_CLOUD_ACCESS_KEY_ID?.trim();
  const secret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET?.trim();
  if (id || secret) {
    if (!id || !secret) {
      throw new ProviderError('config', 'set both ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or neither (to use the ECS RAM role)');
    }
    const token = env.ALIBABA_CLOUD_SECURITY_TOKEN?.trim();
    return token ? { kind: 'environment', accessKeyId: id, accessKeySecret: secret, securityToken: token } : { kind: 'environment', accessKeyId: id, accessKeySecret: secret };
  }
  return configuredRoleName ? { kind: 'ecs-ram-role', roleName: configuredRoleName } : { kind: 'ecs-ram-role' };
}

/** Stable id for cache keys: two identities never share an entry. */
export function identityCacheId(source: IdentitySource): string {
  if (source.kind === 'environment') {
    // node:crypto is fetched only here: the common (ECS role) hit path should not load it.
    const { createHash } = process.getBuiltinModule('node:crypto');
    return `ak-${createHash('sha256').update(source.accessKeyId).digest('hex').slice(0, 16)}`;
  }
  return source.roleName ? `ecs-role-${source.roleName}` : 'ecs-role';
}

export function describeIdentity(source: IdentitySource): string {
  if (source.kind === 'environment') return `AccessKey ${source.accessKeyId.slice(0, 6)}… from the environment`;
  return source.roleName ? `ECS RAM role "${source.roleName}"` : "the ECS instance's RAM role";
}
