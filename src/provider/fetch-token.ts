// Gets a fresh registry credential for a recognised registry: Personal Edition through the
// 2016-06-07 /tokens API of the host's own region; Enterprise Edition and custom domains through
// instance resolution and 2018-12-01 GetAuthorizationToken.
import { forgetResolution, resolveInstanceByDomain, resolveInstanceByName, type ResolverScope } from '../acr/instance-resolver.ts';
import type { RegistryTarget } from '../acr/registry-host.ts';
import { ProviderError, isProviderError } from '../errors.ts';
import type { CloudSession } from './cloud-session.ts';
import { newTokenEntry, type TokenEntry } from './token-entry.ts';

/** A token with less life than this is useless: something (often the clock) is wrong. */
const MIN_USEFUL_LIFE_MS = 5000;

export async function fetchToken(target: RegistryTarget, session: CloudSession): Promise<TokenEntry> {
  switch (target.kind) {
    case 'personal': {
      const body = await session.api(target.region).getPersonalAuthorizationToken();
      return toEntry(session, body.tempUserName, body.authorizationToken, body.expireDate);
    }
    case 'enterprise': {
      const scope = resolverScope(session, target.region);
      const instanceId = await resolveInstanceByName(scope, target.instanceName);
      return enterpriseToken(session, scope, instanceId, () => forgetResolution(scope, 'name', target.instanceName));
    }
    case 'custom': {
      const entry = session.config.registries[target.entryIndex];
      if (!entry) throw new ProviderError('internal', `registry entry ${target.entryIndex} vanished`);
      const region = entry.regionId ?? target.region ?? (await nodeRegionFor(session, target.host));
      const scope = resolverScope(session, region);
      if (entry.instanceId) return enterpriseToken(session, scope, entry.instanceId, undefined);
      const instanceId = await resolveInstanceByDomain(scope, target.host);
      return enterpriseToken(session, scope, instanceId, () => forgetResolution(scope, 'domain', target.host));
    }
    default:
      throw new ProviderError('internal', `no token source for registry kind ${target.kind}`);
  }
}

async function enterpriseToken(session: CloudSession, scope: ResolverScope, instanceId: string, forget: (() => Promise<void>) | undefined): Promise<TokenEntry> {
  try {
    const hours = session.config.cr.tokenExpiresInHours;
    const body = await scope.api.getAuthorizationToken(hours === undefined ? { instanceId } : { instanceId, expiresInHours: hours });
    return toEntry(session, body.tempUsername, body.authorizationToken, body.expireTime);
  } catch (error) {
    // A cached resolution may point at a deleted instance: drop it so the next call re-resolves.
    if (forget && isProviderError(error) && error.errorClass === 'not-found') await forget();
    throw error;
  }
}

function toEntry(session: CloudSession, username: string, password: string, tokenExpiresAt: number): TokenEntry {
  const now = Date.now();
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
