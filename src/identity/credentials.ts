// Builds the one credential object every API client uses, through @alicloud/credentials:
// its static AK/STS providers for environment keys and STS sessions we obtained ourselves, its
// profile providers for credentials files, and our metadata client as a custom provider for the
// ECS RAM role. Not the library's default chain: it probes https://undefined/ and sticks to the
// last provider after a failure.
import credentials, { CLIProfileCredentialsProvider, ProfileCredentialsProvider, StaticAKCredentialsProvider, StaticSTSCredentialsProvider, type CredentialsProvider } from '@alicloud/credentials';
import { ProviderError } from '../errors.ts';
import { readRegularFile, UnsafeFileError } from '../fs/regular-file.ts';
import { registerSecret } from '../log/logger.ts';
import type { IdentitySource } from './identity-key.ts';
import type { MetadataClient } from './imds-client.ts';
import type { StsSession } from './sts-client.ts';

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
  if (source.kind === 'profile') {
    return { credential: new Credential(null, new ProfileFileProvider(source)), sessionExpiresAt: () => undefined };
  }
  const provider = new EcsRamRoleProvider(metadata, source.roleName);
  return { credential: new Credential(null, provider), sessionExpiresAt: () => provider.current?.expiresAt };
}

/**
 * Credentials from an STS exchange we make ourselves (AssumeRole, AssumeRoleWithOIDC), handed
 * to the SDK through its StaticSTSCredentialsProvider. The exchange runs on first use, once.
 */
export function createExchangedCredential(exchange: () => Promise<StsSession>): CloudCredential {
  const provider = new ExchangedStsProvider(exchange);
  return { credential: new Credential(null, provider), sessionExpiresAt: () => provider.session?.expiresAt };
}

class ExchangedStsProvider implements CredentialsProvider {
  session: StsSession | undefined;
  private pending: Promise<StsSession> | undefined;
  private readonly exchange: () => Promise<StsSession>;

  constructor(exchange: () => Promise<StsSession>) {
    this.exchange = exchange;
  }

  getProviderName(): string {
    return 'sts_exchange';
  }

  async getCredentials() {
    this.pending ??= this.exchange().then((s) => (this.session = s));
    const s = await this.pending;
    const inner = StaticSTSCredentialsProvider.builder().withAccessKeyId(s.accessKeyId).withAccessKeySecret(s.accessKeySecret).withSecurityToken(s.securityToken).build();
    return inner.getCredentials();
  }
}

/**
 * The library's profile providers, with their errors replaced: some quote the file's content
 * (AccessKey secrets included) in their messages.
 */
class ProfileFileProvider implements CredentialsProvider {
  private readonly source: Extract<IdentitySource, { kind: 'profile' }>;
  private inner: CredentialsProvider | undefined;

  constructor(source: Extract<IdentitySource, { kind: 'profile' }>) {
    this.source = source;
  }

  getProviderName(): string {
    return this.source.format === 'cli' ? 'cli_profile' : 'profile';
  }

  async getCredentials() {
    const { file, format, profile } = this.source;
    const what = `profile "${profile ?? (format === 'cli' ? 'current' : 'default')}" of ${file}`;
    try {
      if (!this.inner) checkProfileFile(file);
      this.inner ??= format === 'cli' ? buildCliProvider(file, profile) : buildIniProvider(file, profile);
      const c = await this.inner.getCredentials();
      registerSecret(c.accessKeySecret);
      registerSecret(c.securityToken);
      return c;
    } catch (error) {
      throw new ProviderError('config', `cannot use ${what}: ${profileProblem(error)}`);
    }
  }
}

/** A credentials file is a few KiB. */
const MAX_PROFILE_FILE_BYTES = 1024 * 1024;

/**
 * The library reads the file with an asynchronous readFile: a FIFO there would block a thread-pool
 * thread for good, and Node cannot exit while one is blocked, so not even the deadline would end the
 * call. Check first (O_NONBLOCK open, fstat, size) that it is a regular file of sensible size.
 */
function checkProfileFile(file: string): void {
  readRegularFile(file, MAX_PROFILE_FILE_BYTES, { owner: 'anyone' });
}

function buildIniProvider(file: string, profile: string | undefined): CredentialsProvider {
  // The library takes the ini file's path from this variable only; this process is ours alone.
  process.env.ALIBABA_CLOUD_CREDENTIALS_FILE = file;
  const builder = ProfileCredentialsProvider.builder();
  return (profile !== undefined ? builder.withProfileName(profile) : builder).build();
}

function buildCliProvider(file: string, profile: string | undefined): CredentialsProvider {
  // The library reads <home>/.aliyun/config.json, home taken from os.homedir() ($HOME) when built.
  const saved = process.env.HOME;
  process.env.HOME = file.slice(0, -'/.aliyun/config.json'.length);
  try {
    const builder = CLIProfileCredentialsProvider.builder();
    return (profile !== undefined ? builder.withProfileName(profile) : builder).build();
  } finally {
    if (saved === undefined) delete process.env.HOME;
    else process.env.HOME = saved;
  }
}

/** A short reason from the library's error, without ever quoting it. */
function profileProblem(error: unknown): string {
  if (error instanceof UnsafeFileError) return `the file ${error.reason}`;
  const e = error as { code?: string; message?: string };
  const message = typeof e?.message === 'string' ? e.message : '';
  if (e?.code === 'ENOENT' || /ENOENT|reading aliyun cli config/.test(message)) return 'the file does not exist';
  if (e?.code === 'EACCES' || /EACCES/.test(message)) return 'the file is not readable by the provider';
  if (/parse aliyun cli config/.test(message)) return 'the file is not valid JSON';
  if (/no any configured profiles/.test(message)) return 'the file has no profiles';
  if (/unable to get profile|Can not find credential type/.test(message)) return 'no such profile in the file (or it has no type)';
  if (/Invalid type option|unsupported profile mode/.test(message)) return 'the profile\'s type is not supported (use access_key / AK, StsToken, ram_role_arn / RamRoleArn or ecs_ram_role / EcsRamRole)';
  if (/AccessKeyId|AccessKeySecret|SecurityToken|must not be empty|cannot be empty/i.test(message)) return 'the profile lacks its AccessKey id, secret or token';
  return 'the profile is unusable; check its type and keys';
}

/** Fetches once per process (each kubelet call is a new process) and then reuses. */
class EcsRamRoleProvider implements CredentialsProvider {
  current: StsSession | undefined;
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
