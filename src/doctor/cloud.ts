// The doctor's cloud checks: metadata service and mode, RAM role and STS expiry, node region, the
// CR API endpoint each registry's region uses (and whether cr.network: vpc can be honoured there),
// instance resolution and a real token per registry (never printed), and the RAM permissions the
// provider needs. Registries are resolved, planned and fetched through the provider's own code
// (resolveRegistry, planIdentity, CloudSession, fetchToken), never re-implemented here.
import { crEndpointChoice, unreachableHint } from '../acr/endpoints.ts';
import { resolveRegistry, type ResolvedRegistry } from '../acr/registry-target.ts';
import type { ProviderConfig } from '../config/resolve.ts';
import { describeError } from '../errors.ts';
import { createCloudCredential } from '../identity/credentials.ts';
import { describeIdentity, identitySourceFrom, type IdentitySource } from '../identity/identity-key.ts';
import { MetadataClient } from '../identity/imds-client.ts';
import { HttpTransportError, sendHttpRequest } from '../net/http-request.ts';
import { knownRegion } from '../provider/fetch-token.ts';
import { Deadline } from '../resilience/deadline.ts';
import { permissionChecks } from './permission-checks.ts';
import { registryChecks, type TokenAttempt } from './registry-checks.ts';
import type { Check } from './report.ts';
import { DoctorSessions } from './sessions.ts';

const PROBE_TIMEOUT_MS = 5000;

export interface CloudCheckOptions {
  config: ProviderConfig;
  env: NodeJS.ProcessEnv;
  /** Image hosts to get a token for: --image, else every configured registry domain. */
  hosts: string[];
  checkRegistry: boolean;
  /** host → base URL for the registry check (tests, proxies); default https://<host>. */
  registryEndpoints: Record<string, string>;
}

export async function cloudChecks(o: CloudCheckOptions, add: (c: Check) => void): Promise<{ nodeRegion?: string }> {
  const { config } = o;
  let source: IdentitySource;
  try {
    source = identitySourceFrom(o.env, config.metadata.roleName, config.credentials);
  } catch (error) {
    add({ id: 'identity', status: 'fail', message: describeError(error) });
    return {};
  }
  const identity = describeIdentity(source);
  const registries = o.hosts.map((host) => resolveRegistry(host, config.registries));

  // --- metadata, role, region --------------------------------------------------------------
  // Metadata answers in milliseconds on ECS; do not let an unreachable one eat the whole timeout.
  const metadata = new MetadataClient({ endpoint: config.metadata.endpoint, disableIMDSv1: config.metadata.disableIMDSv1, allowV1OnTokenFailure: config.metadata.allowV1OnTokenFailure === true, deadline: new Deadline(Math.min(config.timeoutMs, 10_000)) });
  let roleOk = true;
  if (source.kind === 'ecs-ram-role') {
    const role = await roleChecks(source, metadata, config, add);
    if (role === 'no-metadata') return {};
    roleOk = role === 'ok';
  } else {
    add({ id: 'metadata', status: 'skip', message: `not used: the identity is ${identity}` });
    add({ id: 'ram-role', status: 'skip', message: `not used: the identity is ${identity}` });
  }
  let nodeRegion: string | undefined;
  const regionNeeded = registries.some(({ target }) => target.kind !== 'unrecognized' && knownRegion(target, config.registries) === undefined);
  if (source.kind === 'ecs-ram-role' || regionNeeded) {
    try {
      nodeRegion = await metadata.regionId();
      add({ id: 'region', status: 'pass', message: `node region ${nodeRegion}` });
    } catch (error) {
      add({ id: 'region', status: regionNeeded ? 'fail' : 'warn', message: `node region unknown (${describeError(error)})${regionNeeded ? ': set regionId on the registries entries without one' : ''}` });
    }
  } else {
    add({ id: 'region', status: 'skip', message: 'not needed: every registry names its region' });
  }
  const result = nodeRegion === undefined ? {} : { nodeRegion };

  // --- CR API endpoints ----------------------------------------------------------------------
  const regions = apiRegions(registries, config, nodeRegion);
  for (const region of regions) networkCheck(config, region, add);
  if (!roleOk) return result;
  for (const region of regions) await endpointCheck(config, region, add);

  // --- instances, tokens, registry, permissions --------------------------------------------
  const sessions = new DoctorSessions(config, o.env);
  const attempts: TokenAttempt[] = [];
  for (const { target, entry } of registries) attempts.push(...(await registryChecks(target, entry, sessions, o, add)));
  const permRegion = nodeRegion && regions.includes(nodeRegion) ? nodeRegion : regions[0];
  const base = sessions.plan('', undefined);
  if (permRegion && (base.kind === 'node' || base.kind === 'service-account')) await permissionChecks(sessions.session(base), permRegion, attempts, add);
  return result;
}

/** metadata and ram-role checks for the ECS RAM role identity. */
async function roleChecks(source: Extract<IdentitySource, { kind: 'ecs-ram-role' }>, metadata: MetadataClient, config: ProviderConfig, add: (c: Check) => void): Promise<'ok' | 'failed' | 'no-metadata'> {
  let roleName: string | undefined = source.roleName;
  let roleError: unknown;
  try {
    roleName ??= await metadata.roleName();
  } catch (error) {
    roleError = error;
  }
  if (metadata.mode === undefined) {
    add({ id: 'metadata', status: 'fail', message: describeError(roleError) });
    return 'no-metadata';
  }
  add(
    metadata.mode === 'hardened'
      ? { id: 'metadata', status: 'pass', message: `reachable at ${config.metadata.endpoint}, hardened mode (session tokens)` }
      : { id: 'metadata', status: 'warn', message: `reachable at ${config.metadata.endpoint} in v1 mode only (no session tokens): enable hardened mode on the instance, then set ALIBABA_CLOUD_IMDSV1_DISABLED=true` },
  );
  if (roleError !== undefined || roleName === undefined) {
    add({ id: 'ram-role', status: 'fail', message: describeError(roleError) });
    return 'failed';
  }
  const credential = createCloudCredential(source, () => metadata);
  try {
    await credential.credential.getCredential();
    const expires = credential.sessionExpiresAt();
    const left = expires === undefined ? undefined : Math.round((expires - Date.now()) / 60_000);
    add({ id: 'ram-role', status: 'pass', message: `RAM role "${roleName}" attached${expires === undefined ? '' : `; its STS credentials expire at ${new Date(expires).toISOString()} (in ${left} min)`}` });
    return 'ok';
  } catch (error) {
    add({ id: 'ram-role', status: 'fail', message: `RAM role "${roleName}": ${describeError(error)}` });
    return 'failed';
  }
}

/** The regions whose CR API the registries use, as fetchToken picks them; the node's if none. */
function apiRegions(registries: readonly ResolvedRegistry[], config: ProviderConfig, nodeRegion: string | undefined): string[] {
  const regions = new Set<string>();
  for (const { target } of registries) {
    if (target.kind === 'unrecognized') continue;
    const region = knownRegion(target, config.registries) ?? nodeRegion;
    if (region) regions.add(region);
  }
  if (regions.size === 0 && nodeRegion) regions.add(nodeRegion);
  return [...regions];
}

/** cr.network: vpc where the region has no VPC endpoint: the provider's own warning, as a check. */
function networkCheck(config: ProviderConfig, region: string, add: (c: Check) => void): void {
  let choice;
  try {
    choice = crEndpointChoice(region, config.cr);
  } catch {
    return; // endpointCheck reports a bad configured endpoint
  }
  if (choice.warning) add({ id: `cr-network.${region}`, status: 'warn', message: choice.warning });
}

async function endpointCheck(config: ProviderConfig, region: string, add: (c: Check) => void): Promise<void> {
  let choice;
  try {
    choice = crEndpointChoice(region, config.cr);
  } catch (error) {
    add({ id: `cr-endpoint.${region}`, status: 'fail', message: describeError(error) });
    return;
  }
  const url = choice.endpoint.url;
  const kind = { configured: 'configured', vpc: 'VPC', public: 'public', 'public-fallback': `public (${region} has no VPC endpoint)` }[choice.source];
  try {
    const r = await sendHttpRequest('GET', `${url}/`, {}, PROBE_TIMEOUT_MS);
    add({ id: `cr-endpoint.${region}`, status: 'pass', message: `${kind} CR API endpoint ${url} reachable (HTTP ${r.status})` });
  } catch (error) {
    const code = error instanceof HttpTransportError ? error.code : 'error';
    add({ id: `cr-endpoint.${region}`, status: 'fail', message: `${kind} CR API endpoint ${url} unreachable (${code}): ${unreachableHint(choice, region)}` });
  }
}
