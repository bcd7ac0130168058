// Everything the miss path needs from the cloud, created on first use and shared within one
// invocation: the metadata client, the credential (the node's own, or STS credentials exchanged
// for it or for a ServiceAccount token), and one CR client per region.
import { CrOpenApiClient } from '../acr/cr-openapi.ts';
import type { CrApi } from '../acr/cr-api.ts';
import { crEndpointChoice, unreachableHint } from '../acr/endpoints.ts';
import type { CallHooks } from '../acr/openapi-call.ts';
import type { CacheStore } from '../cache/store.ts';
import type { ProviderConfig } from '../config/resolve.ts';
import type { AssumeRoleSpec } from '../config/schema.ts';
import { createCloudCredential, createExchangedCredential, type CloudCredential } from '../identity/credentials.ts';
import { describeIdentity } from '../identity/identity-key.ts';
import { MetadataClient } from '../identity/imds-client.ts';
import type { IdentityPlan } from '../identity/request-identity.ts';
import { assumeRole, assumeRoleWithOidc, type StsClientOptions } from '../identity/sts-client.ts';
import { stsEndpointFor } from '../identity/sts-endpoint.ts';
import type { Logger } from '../log/logger.ts';
import type { Deadline } from '../resilience/deadline.ts';
import type { InvocationSummary } from './summary.ts';

const NODE_REGION_KEY = 'node-region';
const NODE_REGION_TTL_MS = 7 * 24 * 3600_000;
/** Shows in the role's ActionTrail records as the session of a cross-account assume. */
const DEFAULT_SESSION_NAME = 'aliyun-acr-credential-provider';
const DEFAULT_ASSUME_SECONDS = 3600;

/** The identities that call the cloud (not "deny" or a credential file). */
export type CloudPlan = Extract<IdentityPlan, { kind: 'node' | 'service-account' }>;

export class CloudSession {
  readonly config: ProviderConfig;
  readonly plan: CloudPlan;
  readonly identityId: string;
  readonly identity: string;
  readonly deadline: Deadline;
  readonly logger: Logger;
  readonly summary: InvocationSummary;
  readonly cache: CacheStore | undefined;
  private metadataClient: MetadataClient | undefined;
  private cloudCredential: CloudCredential | undefined;
  private readonly clients = new Map<string, CrApi>();
  /** Every cloud call goes into the invocation summary, every retry into the log. */
  private readonly hooks: CallHooks = {
    onCall: (action, ms, outcome) => this.summary.calls.push({ action, ms, outcome }),
    onRetry: (message) => this.logger.info(message),
  };

  constructor(args: { config: ProviderConfig; plan: CloudPlan; deadline: Deadline; logger: Logger; summary: InvocationSummary; cache: CacheStore | undefined }) {
    this.config = args.config;
    this.plan = args.plan;
    this.deadline = args.deadline;
    this.logger = args.logger;
    this.summary = args.summary;
    this.cache = args.cache;
    this.identityId = args.plan.id;
    this.identity = args.plan.description;
  }

  metadata(): MetadataClient {
    this.metadataClient ??= new MetadataClient({
      endpoint: this.config.metadata.endpoint,
      disableIMDSv1: this.config.metadata.disableIMDSv1,
      allowV1OnTokenFailure: this.config.metadata.allowV1OnTokenFailure === true,
      deadline: this.deadline,
      ...this.hooks,
    });
    return this.metadataClient;
  }

  credential(): CloudCredential {
    this.cloudCredential ??= this.buildCredential();
    return this.cloudCredential;
  }

  private buildCredential(): CloudCredential {
    const plan = this.plan;
    let base: CloudCredential;
    let caller: string;
    if (plan.kind === 'node') {
      base = createCloudCredential(plan.source, () => this.metadata());
      caller = describeIdentity(plan.source);
    } else {
      const { oidc } = plan;
      caller = `ServiceAccount ${oidc.claims.namespace}/${oidc.claims.name}`;
      base = createExchangedCredential(async () => assumeRoleWithOidc(await this.stsOptions(), caller, oidc));
    }
    return plan.assumeRole ? this.chainAssumeRole(base, caller, plan.assumeRole) : base;
  }

  /** Cross-account: the base identity assumes a role (typically in the registry owner's account). */
  private chainAssumeRole(base: CloudCredential, caller: string, spec: AssumeRoleSpec): CloudCredential {
    return createExchangedCredential(async () => {
      const input = { roleArn: spec.roleArn, sessionName: spec.sessionName ?? DEFAULT_SESSION_NAME, durationSeconds: spec.durationSeconds ?? DEFAULT_ASSUME_SECONDS };
      // The registry token dies with this (assumed) session, which fetch-token.ts accounts for.
      return assumeRole(await this.stsOptions(), base.credential, caller, spec.externalId !== undefined ? { ...input, externalId: spec.externalId } : input);
    });
  }

  private async stsOptions(): Promise<StsClientOptions> {
    const sts = this.config.sts;
    const needsRegion = sts.endpoint?.includes('{region}') || (sts.endpoint === undefined && sts.network === 'vpc');
    const region = needsRegion ? (sts.regionId ?? (await this.nodeRegion())) : sts.regionId;
    return {
      endpoint: stsEndpointFor(sts, region),
      deadline: this.deadline,
      ...this.hooks,
    };
  }

  api(region: string): CrApi {
    let client = this.clients.get(region);
    if (!client) {
      const choice = crEndpointChoice(region, this.config.cr);
      // Once per region and invocation: the client is kept for the rest of it.
      if (choice.warning) this.logger.warn(choice.warning);
      client = new CrOpenApiClient({
        region,
        endpoint: choice.endpoint,
        unreachableHint: unreachableHint(choice, region),
        credential: this.credential().credential,
        identity: this.identity,
        deadline: this.deadline,
        ...this.hooks,
      });
      this.clients.set(region, client);
    }
    return client;
  }

  /** The node's own region, for custom domains without regionId. Cached: it never changes. */
  async nodeRegion(): Promise<string> {
    const cached = await this.cache?.get(NODE_REGION_KEY, (v): v is string => typeof v === 'string');
    if (cached) return cached;
    const region = await this.metadata().regionId();
    await this.cache?.set(NODE_REGION_KEY, region, NODE_REGION_TTL_MS).catch(() => undefined);
    return region;
  }
}
