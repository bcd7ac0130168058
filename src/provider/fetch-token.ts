// The one dispatch from a registry target to a fresh registry credential, used by kubelet mode
// (refresh.ts) and by doctor alike, so the two cannot drift: Personal Edition through the
// 2016-06-07 /tokens API of the host's own region; Enterprise Edition and custom domains through
// instance resolution and 2018-12-01 GetAuthorizationToken. The kinds without tokens are refused
// by tokenTarget (registry-target.ts); every switch here ends in an assertNever.
import { forgetResolution, NoSuchInstanceError, resolveInstanceByDomain, resolveInstanceByName, type ResolverScope } from '../acr/instance-resolver.ts';
import type { RegistryTarget } from '../acr/registry-host.ts';
import type { RegistryEntry } from '../config/schema.ts';
import { tokenTarget } from '../acr/registry-target.ts';
import { assertNever } from '../assert-never.ts';
import { ProviderError, isProviderError } from '../errors.ts';
import type { CloudSession } from './cloud-session.ts';
import { newTokenEntry, type TokenEntry } from './token-entry.ts';

/** A token with less life than this is useless: something (often the clock) is wrong. */
const MIN_USEFUL_LIFE_MS = 5000;

export type TokenFetch =
  | { kind: 'token'; entry: TokenEntry; region: string }
  /** No credentials from us: the host names an instance this identity cannot see (another account's). */
  | { kind: 'none'; reason: string; region: string };

export type InstanceSource = 'configured' | 'name' | 'domain';

export interface FetchObserver {
  /** The target names an instance that is being looked up (Enterprise names, custom domains). */
  onResolving?(): void;
  /** The instance the token will be asked for, once known (before the token call). */
  onInstance?(instanceId: string, source: InstanceSource, region: string): void;
}

export async function fetchToken(registry: RegistryTarget, session: CloudSession, observer: FetchObserver = {}): Promise<TokenFetch> {
  const target = tokenTarget(registry);
  switch (target.kind) {
    case 'personal': {
      const body = await session.api(target.region).getPersonalAuthorizationToken();
      return { kind: 'token', entry: toEntry(session, body.tempUserName, body.authorizationToken, body.expireDate), region: target.region };
    }
    case 'enterprise': {
      observer.onResolving?.();
      const scope = resolverScope(session, target.region);
      let instanceId: string;
      try {
        instanceId = await resolveInstanceByName(scope, target.instanceName);
      } catch (error) {
        if (error instanceof NoSuchInstanceError) return { kind: 'none', reason: foreignInstanceReason(target, scope), region: target.region };
        throw error;
      }
      observer.onInstance?.(instanceId, 'name', target.region);
      return enterpriseToken(session, scope, instanceId, () => forgetResolution(scope, 'name', target.instanceName));
    }
    case 'custom': {
      const entry = session.config.registries[target.entryIndex];
      if (!entry) throw new ProviderError('internal', `registry entry ${target.entryIndex} vanished`);
      observer.onResolving?.();
      const region = customRegion(target, entry) ?? (await nodeRegionFor(session, target.host));
      const scope = resolverScope(session, region);
      if (entry.instanceId) {
        observer.onInstance?.(entry.instanceId, 'configured', region);
        return enterpriseToken(session, scope, entry.instanceId, undefined);
      }
      const instanceId = await resolveInstanceByDomain(scope, target.host);
      observer.onInstance?.(instanceId, 'domain', region);
      return enterpriseToken(session, scope, instanceId, () => forgetResolution(scope, 'domain', target.host));
    }
    default:
      return assertNever(target, 'registry kind');
  }
}

/**
 * The region whose CR API serves a target, as fetchToken uses it: the host's own, else (custom
 * domains) the entry's regionId, else the node's region (undefined here: ask the caller).
 */
export function knownRegion(target: RegistryTarget, registries: readonly RegistryEntry[]): string | undefined {
  switch (target.kind) {
    case 'personal':
    case 'enterprise':
    case 'personal-dedicated':
      return target.region;
    case 'custom': {
      const entry = registries[target.entryIndex];
      return entry ? customRegion(target, entry) : undefined;
    }
    case 'unrecognized':
      return undefined;
    default:
      return assertNever(target, 'registry kind');
  }
}

/** An entry's regionId wins over the region of a built-in host it lists. */
function customRegion(target: Extract<RegistryTarget, { kind: 'custom' }>, entry: RegistryEntry): string | undefined {
  return entry.regionId ?? target.region;
}

/**
 * An Enterprise-form host whose instance this identity cannot see: typically another account's
 * public images (PAI's dsw-registry-vpc / eas-registry-vpc), pulled anonymously.
 */
function foreignInstanceReason(target: Extract<RegistryTarget, { kind: 'enterprise' }>, scope: ResolverScope): string {
  return `no Enterprise Edition instance named "${target.instanceName}" in ${scope.region} is visible to ${scope.identity}: answering ${target.host} without credentials, so its images are pulled anonymously (right for other accounts' public images, e.g. PAI's dsw-registry-vpc); if it is a private instance of another account, add a registries entry for the host with instanceId, regionId and assumeRole`;
}

async function enterpriseToken(session: CloudSession, scope: ResolverScope, instanceId: string, forget: (() => Promise<void>) | undefined): Promise<TokenFetch> {
  try {
    const hours = session.config.cr.tokenExpiresInHours;
    const body = await scope.api.getAuthorizationToken(hours === undefined ? { instanceId } : { instanceId, expiresInHours: hours });
    return { kind: 'token', entry: toEntry(session, body.tempUsername, body.authorizationToken, body.expireTime), region: scope.region };
  } catch (error) {
    // A cached resolution may point at a deleted instance: drop it so the next call re-resolves.
    if (forget && isProviderError(error) && error.errorClass === 'not-found') await forget();
    throw error;
  }
}

function toEntry(session: CloudSession, username: string, password: string, tokenExpiresAt: number): TokenEntry {
  const now = session.deadline.clock.now();
  // With STS credentials the password dies with the STS session, whatever ExpireTime says.
  const sessionEnd = session.credential().sessionExpiresAt();
  const expiresAt = sessionEnd === undefined ? tokenExpiresAt : Math.min(tokenExpiresAt, sessionEnd);
  if (expiresAt - now < MIN_USEFUL_LIFE_MS) {
    throw new ProviderError('api', `the registry token expires ${Math.round((expiresAt - now) / 1000)}s from now, before it could be used: check the node's clock`);
  }
  return newTokenEntry(username, password, now, expiresAt, session.config.expiringThresholdMs);
}

function resolverScope(session: CloudSession, region: string): ResolverScope {
  return { api: session.api(region), region, identityId: session.identityId, cache: session.cache, identity: session.identity };
}

async function nodeRegionFor(session: CloudSession, host: string): Promise<string> {
  try {
    return await session.nodeRegion();
  } catch (error) {
    const cause = isProviderError(error) ? error.message : 'unknown error';
    throw new ProviderError('config', `the registries entry for ${host} has no regionId and the node's region is unknown (${cause}): set regionId`);
  }
}
