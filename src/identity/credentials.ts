// Builds the one credential object every API client uses, through @alicloud/credentials:
// its static AK/STS providers for environment keys, and our metadata client as a custom
// provider for the ECS RAM role. Not the library's default chain: it probes https://undefined/
// and sticks to the last provider after a failure.
import credentials, { StaticAKCredentialsProvider, StaticSTSCredentialsProvider, type CredentialsProvider } from '@alicloud/credentials';
import { registerSecret } from '../log/logger.ts';
import type { IdentitySource } from './identity-key.ts';
import type { MetadataClient, RoleCredentials } from './imds-client.ts';

// A CommonJS package: under Node's ESM rules the default import is module.exports.
const Credential = credentials.default;
type Credential = InstanceType<typeof Credential>;

export interface CloudCredential {
  credential: Credential;
  /** When the credentials last handed out stop working (STS sessions), if known. */
  sessionExpiresAt(): number | undefined;
}

export function createCloudCredential(source: IdentitySource, metadata: () => MetadataClient): CloudCredential {
  if (source.kind === 'environment') {
    registerSecret(source.accessKeySecret);
    registerSecret(source.securityToken);
    const provider = source.securityToken
      ? StaticSTSCredentialsProvider.builder().withAccessKeyId(source.accessKeyId).withAccessKeySecret(source.accessKeySecret).withSecurityToken(source.securityToken).build()
      : StaticAKCredentialsProvider.builder().withAccessKeyId(source.accessKeyId).withAccessKeySecret(source.accessKeySecret).build();
    return { credential: new Credential(null, provider), sessionExpiresAt: () => undefined };
  }
  const provider = new EcsRamRoleProvider(metadata, source.roleName);
  return { credential: new Credential(null, provider), sessionExpiresAt: () => provider.current?.expiresAt };
}

/** Fetches once per process (each kubelet call is a new process) and then reuses. */
class EcsRamRoleProvider implements CredentialsProvider {
  current: RoleCredentials | undefined;
  private readonly metadata: () => MetadataClient;
  private readonly roleName: string | undefined;

  constructor(metadata: () => MetadataClient, roleName: string | undefined) {
    this.metadata = metadata;
    this.roleName = roleName;
  }

  getProviderName(): string {
    return 'ecs_ram_role_hardened';
  }

  async getCredentials() {
    if (!this.current || this.current.expiresAt - Date.now() < 60_000) {
      const client = this.metadata();
      const role = this.roleName ?? (await client.roleName());
      this.current = await client.roleCredentials(role);
      registerSecret(this.current.accessKeySecret);
      registerSecret(this.current.securityToken);
    }
    const c = this.current;
    return { accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, securityToken: c.securityToken, providerName: this.getProviderName() };
  }
}
