// ECS instance metadata client. Hardened mode first (PUT a session token, then send it with
// every GET); plain v1 only if the service does not offer tokens and v1 is not disabled.
// @alicloud/credentials' own ECS provider hard-codes 100.100.100.200 and 1 s timeouts, so
// this client is ours and is plugged into that library as a custom provider.
import { ProviderError } from '../errors.ts';
import { HttpTransportError, sendHttpRequest, type HttpResponse } from '../net/http-request.ts';
import type { Deadline } from '../resilience/deadline.ts';
import { withRetry } from '../resilience/retry.ts';

export interface MetadataClientOptions {
  endpoint: string;
  disableIMDSv1: boolean;
  deadline: Deadline;
  onRetry?: (message: string) => void;
  /** Every request, for the invocation summary and counters: e.g. ("metadata-token", 3, "200"). */
  onCall?: (action: string, ms: number, outcome: string) => void;
}

export interface RoleCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string;
  expiresAt: number;
}

const TOKEN_PATH = '/latest/api/token';
const ROLE_PATH = '/latest/meta-data/ram/security-credentials/';
const REGION_PATH = '/latest/meta-data/region-id';
/** The session token is used only inside this short-lived process. */
const TOKEN_TTL_SECONDS = 300;
const ATTEMPT_TIMEOUT_MS = 3000;

export type MetadataMode = 'hardened' | 'v1';

export class MetadataClient {
  readonly options: MetadataClientOptions;
  mode: MetadataMode | undefined;
  private sessionToken: string | undefined;

  constructor(options: MetadataClientOptions) {
    this.options = options;
  }

  async roleName(): Promise<string> {
    const name = (await this.get(ROLE_PATH, 'role')).trim().split('\n')[0]?.trim();
    if (!name) throw this.noRole();
    return name;
  }

  async regionId(): Promise<string> {
    const region = (await this.get(REGION_PATH, 'region')).trim();
    if (!/^[a-z]{2}-[a-z0-9-]+$/.test(region)) throw new ProviderError('metadata', `the metadata service returned an unexpected region id`);
    return region;
  }

  async roleCredentials(roleName: string): Promise<RoleCredentials> {
    // Parsed inside the retried operation: a truncated answer is worth another attempt.
    return this.get(`${ROLE_PATH}${encodeURIComponent(roleName)}`, 'credentials', roleName, (body) => parseRoleCredentials(body, roleName));
  }

  private async get(path: string, what: 'role' | 'region' | 'credentials', roleName?: string): Promise<string>;
  private async get<T>(path: string, what: 'role' | 'region' | 'credentials', roleName: string | undefined, parse: (body: string) => T): Promise<T>;
  private async get<T>(path: string, what: 'role' | 'region' | 'credentials', roleName?: string, parse?: (body: string) => T): Promise<T | string> {
    return withRetry(
      async () => {
        const response = await this.getOnce(path);
        if (response.status === 200) return parse ? parse(response.body) : response.body;
        if (response.status === 404 && what === 'role') throw this.noRole();
        if (response.status === 404 && what === 'credentials') {
          throw new ProviderError('no-role', `RAM role "${roleName}" is not attached to this ECS instance (metadata returned 404): attach it, or unset ALIBABA_CLOUD_ECS_METADATA / metadata.roleName to use the attached role`);
        }
        throw this.statusError(path, response.status);
      },
      { deadline: this.options.deadline, onRetry: (error) => this.options.onRetry?.(`metadata: ${(error as Error).message}; retrying`) },
    );
  }

  private async getOnce(path: string): Promise<HttpResponse> {
    const token = await this.ensureMode();
    const headers: Record<string, string> = token ? { 'X-aliyun-ecs-metadata-token': token } : {};
    const response = await this.send('GET', path, headers);
    if (response.status === 401 && token) {
      this.sessionToken = undefined; // expired or rejected session token: get a new one next attempt
      throw new ProviderError('metadata', 'the metadata service rejected its session token', { retryable: true });
    }
    if (response.status === 403 && !token) {
      throw new ProviderError('metadata', 'the metadata service requires hardened mode (tokens) but refused to issue one');
    }
    return response;
  }

  /** Returns the session token in hardened mode, undefined in v1 mode. */
  private async ensureMode(): Promise<string | undefined> {
    if (this.mode === 'v1') return undefined;
    if (this.sessionToken) return this.sessionToken;
    const response = await this.send('PUT', TOKEN_PATH, { 'X-aliyun-ecs-metadata-token-ttl-seconds': String(TOKEN_TTL_SECONDS) });
    if (response.status === 200 && response.body.trim()) {
      this.mode = 'hardened';
      this.sessionToken = response.body.trim();
      return this.sessionToken;
    }
    if (response.status === 403 || response.status === 404 || response.status === 405) {
      if (this.options.disableIMDSv1) {
        throw new ProviderError('metadata', `the metadata service at ${this.options.endpoint} does not offer hardened mode (HTTP ${response.status}) and IMDSv1 is disabled (ALIBABA_CLOUD_IMDSV1_DISABLED / metadata.disableIMDSv1)`);
      }
      this.mode = 'v1';
      return undefined;
    }
    throw this.statusError(TOKEN_PATH, response.status);
  }

  private async send(method: 'GET' | 'PUT', path: string, headers: Record<string, string>): Promise<HttpResponse> {
    const timeout = this.options.deadline.attemptTimeoutMs(ATTEMPT_TIMEOUT_MS);
    const started = Date.now();
    const action = `metadata-${metadataAction(path)}`;
    try {
      const response = await sendHttpRequest(method, `${this.options.endpoint}${path}`, headers, timeout);
      this.options.onCall?.(action, Date.now() - started, String(response.status));
      return response;
    } catch (error) {
      const code = error instanceof HttpTransportError ? error.code : 'EIO';
      this.options.onCall?.(action, Date.now() - started, code);
      throw new ProviderError('metadata', `cannot reach the ECS metadata service at ${this.options.endpoint} (${code}): on ECS check that nothing blocks 100.100.100.200; outside ECS set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET`, { retryable: true });
    }
  }

  private statusError(path: string, status: number): ProviderError {
    const retryable = status === 429 || status >= 500;
    return new ProviderError('metadata', `the metadata service answered HTTP ${status} for ${path}`, { retryable });
  }

  private noRole(): ProviderError {
    return new ProviderError('no-role', 'no RAM role is attached to this ECS instance (metadata returned 404 for ram/security-credentials/): attach a RAM role that allows cr:GetAuthorizationToken, cr:ListInstance and cr:PullRepository to the node');
  }
}

function parseRoleCredentials(body: string, roleName: string): RoleCredentials {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
  } catch {
    throw new ProviderError('metadata', `the metadata service returned malformed credentials for RAM role "${roleName}"`, { retryable: true });
  }
  const { AccessKeyId, AccessKeySecret, SecurityToken, Expiration, Code } = parsed;
  const expiresAt = typeof Expiration === 'string' ? Date.parse(Expiration) : NaN;
  if (Code !== 'Success' || typeof AccessKeyId !== 'string' || typeof AccessKeySecret !== 'string' || typeof SecurityToken !== 'string' || !Number.isFinite(expiresAt)) {
    throw new ProviderError('metadata', `the metadata service did not return usable credentials for RAM role "${roleName}" (Code: ${String(Code).slice(0, 40)})`, { retryable: true });
  }
  return { accessKeyId: AccessKeyId, accessKeySecret: AccessKeySecret, securityToken: SecurityToken, expiresAt };
}

/** A short, secret-free name for a metadata path (role names are not secret but vary). */
function metadataAction(path: string): string {
  if (path === TOKEN_PATH) return 'token';
  if (path === REGION_PATH) return 'region';
  return path === ROLE_PATH ? 'role' : 'credentials';
}
