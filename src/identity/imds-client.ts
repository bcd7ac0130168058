// ECS instance metadata client. Hardened mode first (PUT a session token, then send it with
// every GET); plain v1 only if the service says it has no token API (HTTP 403/404/405) and v1 is
// not disabled. Stricter than the Alibaba SDKs, which fall back to v1 on any failure of the PUT:
// a timeout or 5xx there is an error that says how to allow the fallback
// (metadata.allowV1OnTokenFailure), so that a flaky token API on an instance enforcing hardened
// mode is reported as such rather than hidden behind tokenless requests that will be refused.
// @alicloud/credentials' own ECS provider hard-codes 100.100.100.200 and 1 s timeouts, so
// this client is ours and is plugged into that library as a custom provider.
import type { CallHooks } from '../acr/openapi-call.ts';
import { ProviderError } from '../errors.ts';
import { HttpTransportError, sendHttpRequest, type HttpResponse } from '../net/http-request.ts';
import { isValidRegionId } from '../region-id.ts';
import type { Deadline } from '../resilience/deadline.ts';
import type { StsSession } from './sts-client.ts';
import { withRetry } from '../resilience/retry.ts';

/** onCall: every request, for the invocation summary and counters, e.g. ("metadata-token", 3, "200"). */
export interface MetadataClientOptions extends CallHooks {
  endpoint: string;
  disableIMDSv1: boolean;
  /** Fall back to v1 when the token PUT times out or answers 5xx, as the SDKs do. Default false. */
  allowV1OnTokenFailure?: boolean;
  deadline: Deadline;
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
    if (!isValidRegionId(region)) throw new ProviderError('metadata', `the metadata service returned an unexpected region id`);
    return region;
  }

  async roleCredentials(roleName: string): Promise<StsSession> {
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
    let response: HttpResponse;
    try {
      response = await this.sendRaw('PUT', TOKEN_PATH, { 'X-aliyun-ecs-metadata-token-ttl-seconds': String(TOKEN_TTL_SECONDS) });
    } catch (error) {
      // A service that does not answer at all is unreachable, tokens or not; a timeout is the
      // token API failing.
      if (error instanceof HttpTransportError && error.code === 'ETIMEDOUT') return this.tokenApiFailed('timeout');
      throw this.unreachable(error);
    }
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
    if (response.status === 200) return this.tokenApiFailed('an empty token');
    if (response.status === 429 || response.status >= 500) return this.tokenApiFailed(`HTTP ${response.status}`);
    throw this.statusError(TOKEN_PATH, response.status);
  }

  /** The token PUT failed (not "no token API"): an error, or v1 if the operator allowed it. */
  private tokenApiFailed(what: string): undefined {
    const where = `the metadata token API (PUT ${this.options.endpoint}${TOKEN_PATH}) failed (${what})`;
    if (this.options.allowV1OnTokenFailure && !this.options.disableIMDSv1) {
      this.options.onRetry?.(`metadata: ${where}; falling back to the tokenless protocol (metadata.allowV1OnTokenFailure)`);
      this.mode = 'v1';
      return undefined;
    }
    const advice = this.options.disableIMDSv1
      ? 'IMDSv1 is disabled, so there is no tokenless fallback: check the instance\'s metadata service'
      : 'the provider falls back to the tokenless protocol only when the service has no token API (HTTP 403/404/405), never on a failure, so as not to hide a broken token API behind requests that hardened mode refuses; if this instance does not enforce hardened mode, set metadata.allowV1OnTokenFailure: true to fall back as the Alibaba SDKs do';
    throw new ProviderError('metadata', `${where}: ${advice}`, { retryable: true });
  }

  private async send(method: 'GET' | 'PUT', path: string, headers: Record<string, string>): Promise<HttpResponse> {
    try {
      return await this.sendRaw(method, path, headers);
    } catch (error) {
      throw this.unreachable(error);
    }
  }

  /** One request, counted; transport failures are thrown as HttpTransportError. */
  private async sendRaw(method: 'GET' | 'PUT', path: string, headers: Record<string, string>): Promise<HttpResponse> {
    const timeout = this.options.deadline.attemptTimeoutMs(ATTEMPT_TIMEOUT_MS);
    const started = Date.now();
    const action = `metadata-${metadataAction(path)}`;
    try {
      const response = await sendHttpRequest(method, `${this.options.endpoint}${path}`, headers, timeout);
      this.options.onCall?.(action, Date.now() - started, String(response.status));
      return response;
    } catch (error) {
      const transport = error instanceof HttpTransportError ? error : new HttpTransportError('EIO', 'request failed');
      this.options.onCall?.(action, Date.now() - started, transport.code);
      throw transport;
    }
  }

  private unreachable(error: unknown): ProviderError {
    const code = error instanceof HttpTransportError ? error.code : 'EIO';
    return new ProviderError('metadata', `cannot reach the ECS metadata service at ${this.options.endpoint} (${code}): on ECS check that nothing blocks 100.100.100.200; outside ECS set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET`, { retryable: true });
  }

  private statusError(path: string, status: number): ProviderError {
    const retryable = status === 429 || status >= 500;
    return new ProviderError('metadata', `the metadata service answered HTTP ${status} for ${path}`, { retryable });
  }

  private noRole(): ProviderError {
    return new ProviderError('no-role', 'no RAM role is attached to this ECS instance (metadata returned 404 for ram/security-credentials/): attach a RAM role that allows cr:GetAuthorizationToken, cr:ListInstance and cr:PullRepository to the node');
  }
}

function parseRoleCredentials(body: string, roleName: string): StsSession {
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
