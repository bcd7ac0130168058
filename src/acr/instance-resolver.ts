// Enterprise Edition hosts name an instance; the token API wants its id. Names are resolved by
// paging through ListInstance in the host's region and matching the name exactly (the API's
// own InstanceName filter is deprecated and fuzzy: a prefix match once picked the wrong
// instance in a peer). Custom domains are found through ListInstanceEndpoint. Results are
// cached on disk; "no such instance" is cached briefly so a typo does not hammer the API.
import type { CacheStore } from '../cache/store.ts';
import { ProviderError } from '../errors.ts';
import type { CrApi } from './cr-api.ts';

const PAGE_SIZE = 30;
const MAX_PAGES = 200;
export const RESOLUTION_TTL_MS = 24 * 3600_000;
export const MISSING_TTL_MS = 60_000;

export interface ResolverScope {
  api: CrApi;
  region: string;
  /** Cache namespace of the identity: instances visible to one identity are not another's. */
  identityId: string;
  cache: CacheStore | undefined;
  identity: string;
}

/** Resolution found no such instance (as opposed to a failed API call). */
export class NoSuchInstanceError extends ProviderError {
  constructor(message: string) {
    super('not-found', message);
  }
}

interface Resolution {
  instanceId: string;
}
interface Missing {
  missing: true;
}

export async function resolveInstanceByName(scope: ResolverScope, instanceName: string): Promise<string> {
  return resolveCached(scope, `name:${instanceName}`, async () => {
    for await (const instance of listAllInstances(scope.api)) {
      if (instance.instanceName === instanceName) return instance.instanceId;
    }
    return undefined;
  }, () => `no Container Registry Enterprise Edition instance named "${instanceName}" in ${scope.region} is visible to ${scope.identity}: check the image host, or that the instance belongs to this account (cross-account needs configuration)`);
}

export async function resolveInstanceByDomain(scope: ResolverScope, host: string): Promise<string> {
  const wanted = host.toLowerCase();
  return resolveCached(scope, `domain:${wanted}`, async () => {
    for await (const instance of listAllInstances(scope.api)) {
      const { endpoints } = await scope.api.listInstanceEndpoint({ instanceId: instance.instanceId, moduleName: 'Registry' });
      const domains = endpoints.flatMap((e) => e.domains);
      if (domains.some((d) => d.domain.toLowerCase() === wanted)) return instance.instanceId;
    }
    return undefined;
  }, () => `no Enterprise Edition instance in ${scope.region} visible to ${scope.identity} has the domain ${host}: add instanceId (and regionId) to its registries entry, or bind the domain to the instance`);
}

/** Drops a cached name or domain resolution, e.g. after the instance was recreated. */
export async function forgetResolution(scope: ResolverScope, kind: 'name' | 'domain', value: string): Promise<void> {
  await scope.cache?.delete(resolutionKey(scope, `${kind}:${kind === 'domain' ? value.toLowerCase() : value}`)).catch(() => undefined);
}

async function resolveCached(scope: ResolverScope, what: string, lookup: () => Promise<string | undefined>, notFound: () => string): Promise<string> {
  const key = resolutionKey(scope, what);
  const missingKey = `missing:${key}`;
  const cached = await scope.cache?.get(key, isResolution);
  if (cached) return cached.instanceId;
  if (await scope.cache?.get(missingKey, isMissing)) throw new NoSuchInstanceError(notFound());
  const instanceId = await lookup();
  if (instanceId === undefined) {
    await scope.cache?.set(missingKey, { missing: true } satisfies Missing, MISSING_TTL_MS).catch(() => undefined);
    throw new NoSuchInstanceError(notFound());
  }
  await scope.cache?.set(key, { instanceId } satisfies Resolution, RESOLUTION_TTL_MS).catch(() => undefined);
  return instanceId;
}

async function* listAllInstances(api: CrApi) {
  let seen = 0;
  for (let pageNo = 1; pageNo <= MAX_PAGES; pageNo++) {
    const page = await api.listInstance({ pageNo, pageSize: PAGE_SIZE });
    yield* page.instances;
    seen += page.instances.length;
    if (page.instances.length === 0 || seen >= page.totalCount) return;
  }
}

function resolutionKey(scope: ResolverScope, what: string): string {
  return `instance:${scope.identityId}:${scope.region}:${what}`;
}

function isResolution(value: unknown): value is Resolution {
  return typeof value === 'object' && value !== null && typeof (value as Resolution).instanceId === 'string';
}

function isMissing(value: unknown): value is Missing {
  return typeof value === 'object' && value !== null && (value as Missing).missing === true;
}
