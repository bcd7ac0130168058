// Everything the miss path needs from the cloud, created on first use and shared within one
// invocation: the metadata client, the credential, and one CR client per region.
import { CrOpenApiClient } from '../acr/cr-openapi.ts';
import type { CrApi } from '../acr/cr-api.ts';
import { crEndpointFor } from '../acr/endpoints.ts';
import type { CacheStore } from '../cache/store.ts';
import type { ProviderConfig } from '../config/resolve.ts';
import { createCloudCredential, type CloudCredential } from '../identity/credentials.ts';
import { describeIdentity, identityCacheId, type IdentitySource } from '../identity/identity-key.ts';
import { MetadataClient } from '../identity/imds-client.ts';
import type { Logger } from '../log/logger.ts';
import type { Deadline } from '../resilience/deadline.ts';
import type { InvocationSummary } from './summary.ts';

const NODE_REGION_KEY = 'node-region';
const NODE_REGION_TTL_MS = 7 * 24 * 3600_000;

export class CloudSession {
  readonly config: ProviderConfig;
  readonly source: IdentitySource;
  readonly identityId: string;
  readonly identity: string;
  readonly deadline: Deadline;
  readonly logger: Logger;
  readonly summary: InvocationSummary;
  readonly cache: CacheStore | undefined;
  private metadataClient: MetadataClient | undefined;
  private cloudCredential: CloudCredential | undefined;
  private readonly clients = new Map<string, CrApi>();

  constructor(args: { config: ProviderConfig; source: IdentitySource; deadline: Deadline; logger: Logger; summary: InvocationSummary; cache: CacheStore | undefined }) {
    this.config = args.config;
    this.source = args.source;
    this.deadline = args.deadline;
    this.logger = args.logger;
    this.summary = args.summary;
    this.cache = args.cache;
    this.identityId = identityCacheId(args.source);
    this.identity = describeIdentity(args.source);
  }

  metadata(): MetadataClient {
    this.metadataClient ??= new MetadataClient({
      endpoint: this.config.metadata.endpoint,
      disableIMDSv1: this.config.metadata.disableIMDSv1,
      deadline: this.deadline,
      onRetry: (message) => this.logger.info(message),
    });
    return this.metadataClient;
  }

  credential(): CloudCredential {
    this.cloudCredential ??= createCloudCredential(this.source, () => this.metadata());
    return this.cloudCredential;
  }

  api(region: string): CrApi {
    let client = this.clients.get(region);
    if (!client) {
      client = new CrOpenApiClient({
        region,
        endpoint: crEndpointFor(region, this.config.cr),
        credential: this.credential().credential,
        identity: this.identity,
        deadline: this.deadline,
        onCall: (action, ms, outcome) => this.summary.calls.push({ action, ms, outcome }),
        onRetry: (message) => this.logger.info(message),
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
