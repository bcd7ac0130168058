// The one "cloud" that IMDS, the CR API (and later the registry emulator) share: identities and
// their keys, STS sessions issued through IMDS, RAM denials, EE instances, issued registry
// tokens, the call log and the fault queue. Time comes from `now()`, which tests may shift with
// advanceClock() to make credentials expire without sleeping (signature date checks keep using
// the real clock, because clients stamp requests with the real time).
import { generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { FaultQueue } from './faults.ts';
import type { ServerKind } from './faults.ts';
import { NonceStore } from './signature-v3.ts';

export const HOUR_MS = 60 * 60 * 1000;
/** The account everything belongs to unless a test says otherwise ("account A"). */
export const DEFAULT_ACCOUNT_ID = '1234567890123456';

/**
 * Which account an identity belongs to: "role/<name>@<account>" or "user/<name>@<account>";
 * without "@", the default account.
 */
export function accountOf(identity: string): string {
  const at = identity.lastIndexOf('@');
  return at === -1 ? DEFAULT_ACCOUNT_ID : identity.slice(at + 1);
}

/** Who may assume a role (a small model of a RAM trust policy). */
export interface TrustPolicy {
  /** AssumeRole: identities ("role/acr-node-role", "user/ci@222…") or whole accounts ("222…"). */
  principals?: string[];
  /** AssumeRole: the sts:ExternalId condition. */
  externalId?: string;
  /** AssumeRoleWithOIDC: the federated principal and its oidc:* conditions. */
  oidc?: {
    providerArn: string;
    /** oidc:aud; default: any of the provider's client ids. */
    audiences?: string[];
    /** oidc:sub, exact or ending in "*"; default: any. */
    subjects?: string[];
  };
}

export interface RamRole {
  accountId: string;
  name: string;
  arn: string;
  /** The identity of sessions of this role (what CR sees). */
  identity: string;
  trust: TrustPolicy;
  maxSessionDurationSeconds: number;
}

export interface OidcProvider {
  accountId: string;
  name: string;
  arn: string;
  issuer: string;
  /** Accepted audiences (the provider's client ids). */
  clientIds: string[];
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface AccessKeyRecord {
  accessKeyId: string;
  accessKeySecret: string;
  /** Who the key belongs to, e.g. "user/ci" or "role/acr-node-role". */
  identity: string;
  kind: 'static' | 'sts';
  /** STS only. */
  securityToken?: string;
  /** STS only: epoch ms. */
  expiresAt?: number;
  issuedAt: number;
}

export interface StsCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string;
  identity: string;
  issuedAt: number;
  expiresAt: number;
}

export type InstanceStatus = 'PENDING' | 'INIT_ERROR' | 'STARTING' | 'RUNNING' | 'STOPPING' | 'STOPPED' | 'DELETING' | 'DELETED';

export interface EeInstance {
  instanceId: string;
  /** Owner: only identities of this account see the instance. */
  accountId: string;
  instanceName: string;
  regionId: string;
  status: InstanceStatus;
  specification: 'Enterprise_Basic' | 'Enterprise_Standard' | 'Enterprise_Advanced';
  /** Custom domains, listed with Type USER by ListInstanceEndpoint. */
  userDomains: string[];
  internetEndpointEnabled: boolean;
  vpcEndpointEnabled: boolean;
  createTime: number;
}

export interface AddInstanceInput {
  regionId: string;
  accountId?: string;
  instanceName: string;
  userDomains?: string[];
  instanceId?: string;
  status?: InstanceStatus;
  internetEndpointEnabled?: boolean;
  vpcEndpointEnabled?: boolean;
}

export interface IssuedRegistryToken {
  username: string;
  password: string;
  issuedAt: number;
  expiresAt: number;
  /** '2018-12-01' (EE, per instance) or '2016-06-07' (Personal Edition /tokens). */
  apiVersion: '2018-12-01' | '2016-06-07';
  /** null for Personal Edition tokens. */
  instanceId: string | null;
  regionId: string;
  identity: string;
  accessKeyId: string;
}

export interface CallRecord {
  server: ServerKind;
  /** CR: the region whose endpoint was called; IMDS: the node region. */
  region: string;
  /** CR: the API action; IMDS: the request path. */
  action: string;
  apiVersion?: string;
  method: string;
  path: string;
  accessKeyId?: string;
  status: number;
  /** Error code when the request was rejected. */
  code?: string;
  /** STS: the role asked for, the session name, and (OIDC) the token's subject. */
  roleArn?: string;
  sessionName?: string;
  subject?: string;
  /** STS: the wire form the request arrived in ('rpc-v1', 'rpc-anonymous' or 'acs3'). */
  wire?: string;
  /** True when an injected fault shaped the answer. */
  faulted?: boolean;
  timestamp: number;
}

export interface CallFilter {
  server?: ServerKind;
  action?: string;
  region?: string;
}

const random = (bytes: number): string => randomBytes(bytes).toString('base64url');
const lowerAlnum = (n: number): string => {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('');
};

export class CloudState {
  readonly faults = new FaultQueue();
  /** Shared by every CR endpoint so a request replayed to another region is caught too. */
  readonly nonces = new NonceStore();
  /** HTTP status for INSTANCE_NOT_EXIST: 200 + IsSuccess:false (default) or 404. */
  instanceNotFoundStatus: 200 | 404 = 200;

  #clockOffsetMs = 0;
  #clock: (() => number) | undefined;
  #tokenLifetimeMs = HOUR_MS;
  #stsLifetimeMs = 6 * HOUR_MS;
  #stsRotateBeforeMs = 30 * 60 * 1000;
  readonly #keys = new Map<string, AccessKeyRecord>();
  /** Current IMDS session per identity. */
  readonly #sessions = new Map<string, StsCredentials>();
  readonly #denied = new Map<string, Set<string>>();
  /** identity -> action -> the only instance ids a policy allows it on (RAM resource scoping). */
  readonly #scoped = new Map<string, Map<string, Set<string>>>();
  readonly #instances: EeInstance[] = [];
  readonly #tokens: IssuedRegistryToken[] = [];
  readonly #roles = new Map<string, RamRole>();
  readonly #oidcProviders = new Map<string, OidcProvider>();
  #calls: CallRecord[] = [];

  now(): number {
    return (this.#clock?.() ?? Date.now()) + this.#clockOffsetMs;
  }

  /** Takes time from an outside clock (a test's virtual clock, shared with the provider code) instead of the wall clock. */
  useClock(now: () => number): void {
    this.#clock = now;
  }

  /** Moves the cloud's clock (credential/token expiry), not the signature date window. */
  advanceClock(ms: number): void {
    this.#clockOffsetMs += ms;
  }

  // --- lifetimes -------------------------------------------------------------------------

  setTokenLifetime(ms: number): void {
    this.#tokenLifetimeMs = ms;
  }
  setStsLifetime(ms: number): void {
    this.#stsLifetimeMs = ms;
  }
  /** IMDS hands out the same session until this long before it expires. */
  setStsRotateBefore(ms: number): void {
    this.#stsRotateBeforeMs = ms;
  }

  // --- access keys and STS ---------------------------------------------------------------

  addAccessKey(accessKeyId: string, accessKeySecret: string, identity: string): AccessKeyRecord {
    const rec: AccessKeyRecord = { accessKeyId, accessKeySecret, identity, kind: 'static', issuedAt: this.now() };
    this.#keys.set(accessKeyId, rec);
    return rec;
  }

  removeAccessKey(accessKeyId: string): void {
    this.#keys.delete(accessKeyId);
  }

  lookupAccessKey(accessKeyId: string): AccessKeyRecord | undefined {
    return this.#keys.get(accessKeyId);
  }

  /** Issues a fresh STS session for an identity (what AssumeRole would do). */
  issueSts(identity: string, lifetimeMs = this.#stsLifetimeMs): StsCredentials {
    const issuedAt = this.now();
    const creds: StsCredentials = {
      accessKeyId: `STS.${random(18)}`,
      accessKeySecret: random(30),
      securityToken: `CAIS${random(120)}`,
      identity,
      issuedAt,
      expiresAt: issuedAt + lifetimeMs,
    };
    this.#keys.set(creds.accessKeyId, {
      accessKeyId: creds.accessKeyId,
      accessKeySecret: creds.accessKeySecret,
      identity,
      kind: 'sts',
      securityToken: creds.securityToken,
      expiresAt: creds.expiresAt,
      issuedAt,
    });
    return creds;
  }

  /**
   * The IMDS view: the same session until `rotateBefore` ahead of its expiry, then a new one
   * (the old one stays valid until it expires, like the real service).
   */
  stsCredentialsFor(identity: string): StsCredentials {
    const current = this.#sessions.get(identity);
    if (current && current.expiresAt - this.now() > this.#stsRotateBeforeMs) return current;
    const next = this.issueSts(identity);
    this.#sessions.set(identity, next);
    return next;
  }

  /**
   * Makes every STS key (or one) expire now; IMDS will then issue new ones. Registry tokens
   * issued with those keys die with them ("valid only as long as the STS token").
   */
  expireSts(accessKeyId?: string): void {
    const past = this.now() - 1;
    const expired = new Set<string>();
    for (const rec of this.#keys.values()) {
      if (rec.kind === 'sts' && (accessKeyId === undefined || rec.accessKeyId === accessKeyId)) {
        rec.expiresAt = past;
        expired.add(rec.accessKeyId);
      }
    }
    for (const t of this.#tokens) if (expired.has(t.accessKeyId)) t.expiresAt = Math.min(t.expiresAt, past);
    for (const s of this.#sessions.values()) {
      if (accessKeyId === undefined || s.accessKeyId === accessKeyId) s.expiresAt = past;
    }
  }

  // --- RAM -------------------------------------------------------------------------------

  /** `action` is the API name ("GetAuthorizationToken") or "*" for everything. */
  denyAction(identity: string, action: string): void {
    const set = this.#denied.get(identity) ?? new Set<string>();
    set.add(action);
    this.#denied.set(identity, set);
  }

  allowAction(identity: string, action?: string): void {
    if (action === undefined) this.#denied.delete(identity);
    else this.#denied.get(identity)?.delete(action);
  }

  isDenied(identity: string, action: string): boolean {
    const set = this.#denied.get(identity);
    return set !== undefined && (set.has(action) || set.has('*'));
  }

  /**
   * A RAM policy whose Resource names specific instances (acs:cr:*:*:instance/<id>): the action
   * is allowed on these instance ids only. RAM decides before the instance is looked up, so any
   * other id (a made-up one included) is denied, not "not found".
   */
  allowOnlyInstances(identity: string, action: string, instanceIds: string[]): void {
    const byAction = this.#scoped.get(identity) ?? new Map<string, Set<string>>();
    byAction.set(action, new Set(instanceIds));
    this.#scoped.set(identity, byAction);
  }

  isDeniedForInstance(identity: string, action: string, instanceId: string | undefined): boolean {
    const allowed = this.#scoped.get(identity)?.get(action);
    return allowed !== undefined && (instanceId === undefined || !allowed.has(instanceId));
  }

  // --- EE instances ----------------------------------------------------------------------

  addInstance(input: AddInstanceInput): EeInstance {
    const inst: EeInstance = {
      instanceId: input.instanceId ?? `cri-${lowerAlnum(16)}`,
      accountId: input.accountId ?? DEFAULT_ACCOUNT_ID,
      instanceName: input.instanceName,
      regionId: input.regionId,
      status: input.status ?? 'RUNNING',
      specification: 'Enterprise_Standard',
      userDomains: [...(input.userDomains ?? [])],
      internetEndpointEnabled: input.internetEndpointEnabled ?? true,
      vpcEndpointEnabled: input.vpcEndpointEnabled ?? true,
      createTime: this.now(),
    };
    this.#instances.push(inst);
    return inst;
  }

  removeInstance(instanceId: string): void {
    const i = this.#instances.findIndex((x) => x.instanceId === instanceId);
    if (i >= 0) this.#instances.splice(i, 1);
  }

  /** Live objects: tests may mutate them (e.g. status, userDomains). */
  instances(regionId?: string): EeInstance[] {
    return this.#instances.filter((x) => regionId === undefined || x.regionId === regionId);
  }

  findInstance(regionId: string, instanceId: string, accountId?: string): EeInstance | undefined {
    return this.#instances.find((x) => x.regionId === regionId && x.instanceId === instanceId && (accountId === undefined || x.accountId === accountId));
  }

  // --- RAM roles and OIDC providers (STS) --------------------------------------------------

  addRole(input: { name: string; accountId?: string; trust: TrustPolicy; maxSessionDurationSeconds?: number }): RamRole {
    const accountId = input.accountId ?? DEFAULT_ACCOUNT_ID;
    const role: RamRole = {
      accountId,
      name: input.name,
      arn: `acs:ram::${accountId}:role/${input.name}`,
      identity: accountId === DEFAULT_ACCOUNT_ID ? `role/${input.name}` : `role/${input.name}@${accountId}`,
      trust: input.trust,
      maxSessionDurationSeconds: input.maxSessionDurationSeconds ?? 3600,
    };
    this.#roles.set(role.arn.toLowerCase(), role);
    return role;
  }

  /** ARNs compare case-insensitively, as RAM's do. */
  findRole(arn: string): RamRole | undefined {
    return this.#roles.get(arn.toLowerCase());
  }

  /** A cluster's RRSA OIDC provider, with a fresh RSA key the emulator signs SA tokens with. */
  addOidcProvider(input: { name: string; accountId?: string; issuer?: string; clientIds?: string[] }): OidcProvider {
    const accountId = input.accountId ?? DEFAULT_ACCOUNT_ID;
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const provider: OidcProvider = {
      accountId,
      name: input.name,
      arn: `acs:ram::${accountId}:oidc-provider/${input.name}`,
      issuer: input.issuer ?? `https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/${input.name}`,
      clientIds: input.clientIds ?? ['sts.aliyuncs.com'],
      kid: random(12),
      privateKey,
      publicKey,
    };
    this.#oidcProviders.set(provider.arn, provider);
    return provider;
  }

  findOidcProvider(arn: string): OidcProvider | undefined {
    return this.#oidcProviders.get(arn);
  }

  // --- registry tokens -------------------------------------------------------------------

  /**
   * Issues a registry password. Lifetime: the configured token lifetime (or the requested one),
   * never past the caller's STS expiry ("valid only as long as the STS token").
   */
  issueRegistryToken(input: {
    apiVersion: IssuedRegistryToken['apiVersion'];
    instanceId: string | null;
    regionId: string;
    caller: AccessKeyRecord;
    requestedLifetimeMs?: number;
  }): IssuedRegistryToken {
    const issuedAt = this.now();
    let expiresAt = issuedAt + (input.requestedLifetimeMs ?? this.#tokenLifetimeMs);
    if (input.caller.expiresAt !== undefined) expiresAt = Math.min(expiresAt, input.caller.expiresAt);
    const token: IssuedRegistryToken = {
      username: 'cr_temp_user',
      password: `eyJ${random(96)}`,
      issuedAt,
      expiresAt,
      apiVersion: input.apiVersion,
      instanceId: input.instanceId,
      regionId: input.regionId,
      identity: input.caller.identity,
      accessKeyId: input.caller.accessKeyId,
    };
    this.#tokens.push(token);
    return token;
  }

  issuedTokens(): IssuedRegistryToken[] {
    return [...this.#tokens];
  }

  /** For a registry emulator: the token for these credentials, if it exists and has not expired. */
  validateRegistryToken(username: string, password: string): IssuedRegistryToken | undefined {
    return this.#tokens.find((t) => t.username === username && t.password === password && t.expiresAt > this.now());
  }

  // --- call log --------------------------------------------------------------------------

  recordCall(rec: Omit<CallRecord, 'timestamp'>): void {
    this.#calls.push({ ...rec, timestamp: this.now() });
  }

  calls(filter: CallFilter = {}): CallRecord[] {
    return this.#calls.filter(
      (c) =>
        (filter.server === undefined || c.server === filter.server) &&
        (filter.action === undefined || c.action === filter.action) &&
        (filter.region === undefined || c.region === filter.region),
    );
  }

  resetCalls(): void {
    this.#calls = [];
  }

  newRequestId(): string {
    return randomUUID().toUpperCase();
  }
}
