// The doctor's cloud checks: metadata service and mode, RAM role and STS expiry, node region,
// CR API reachability, the RAM permissions the provider needs (probed with harmless calls),
// instance resolution and a real token per registry (never printed), and optionally a
// `GET /v2/` on the registry with that token. Clients are built here directly (no cache, no
// CloudSession): the doctor observes, it never writes the node's cache.
import { CrOpenApiClient } from '../acr/cr-openapi.ts';
import type { CrApi } from '../acr/cr-api.ts';
import { crEndpointFor } from '../acr/endpoints.ts';
import { resolveInstanceByDomain, resolveInstanceByName, type ResolverScope } from '../acr/instance-resolver.ts';
import { classifyRegistryHost, type RegistryTarget } from '../acr/registry-host.ts';
import type { ProviderConfig } from '../config/resolve.ts';
import { describeError, isProviderError } from '../errors.ts';
import { createCloudCredential, type CloudCredential } from '../identity/credentials.ts';
import { describeIdentity, identitySourceFrom, type IdentitySource } from '../identity/identity-key.ts';
import { MetadataClient } from '../identity/imds-client.ts';
import { registerSecret } from '../log/logger.ts';
import { sendHttpRequest, HttpTransportError } from '../net/http-request.ts';
import { Deadline } from '../resilience/deadline.ts';
import type { Check } from './report.ts';

/** Harmless probe target: an instance id that does not exist. "Not found" means "allowed". */
const PROBE_INSTANCE_ID = 'cri-aliyun-acr-doctor-probe';
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

interface Ctx {
  config: ProviderConfig;
  source: IdentitySource;
  identity: string;
  metadata: MetadataClient;
  credential: CloudCredential;
  apis: Map<string, CrApi>;
  deadline: () => Deadline;
}

export async function cloudChecks(o: CloudCheckOptions, add: (c: Check) => void): Promise<{ nodeRegion?: string }> {
  const { config } = o;
  const deadline = () => new Deadline(config.timeoutMs);
  let source: IdentitySource;
  try {
    source = identitySourceFrom(o.env, config.metadata.roleName, config.credentials);
  } catch (error) {
    add({ id: 'identity', status: 'fail', message: describeError(error) });
    return {};
  }
  // Metadata answers in milliseconds on ECS; do not let an unreachable one eat the whole timeout.
  const metadata = new MetadataClient({ endpoint: config.metadata.endpoint, disableIMDSv1: config.metadata.disableIMDSv1, deadline: new Deadline(Math.min(config.timeoutMs, 10_000)) });
  const ctx: Ctx = { config, source, identity: describeIdentity(source), metadata, credential: createCloudCredential(source, () => metadata), apis: new Map(), deadline };

  // --- metadata, role, region --------------------------------------------------------------
  let roleOk = true;
  let nodeRegion: string | undefined;
  if (source.kind === 'ecs-ram-role') {
    let roleName: string | undefined = source.roleName;
    let roleError: unknown;
    try {
      roleName ??= await metadata.roleName();
    } catch (error) {
      roleError = error;
    }
    if (metadata.mode === undefined) {
      add({ id: 'metadata', status: 'fail', message: describeError(roleError) });
      return {};
    }
    add(
      metadata.mode === 'hardened'
        ? { id: 'metadata', status: 'pass', message: `reachable at ${config.metadata.endpoint}, hardened mode (session tokens)` }
        : { id: 'metadata', status: 'warn', message: `reachable at ${config.metadata.endpoint} in v1 mode only (no session tokens): enable hardened mode on the instance, then set ALIBABA_CLOUD_IMDSV1_DISABLED=true` },
    );
    if (roleError !== undefined || roleName === undefined) {
      roleOk = false;
      add({ id: 'ram-role', status: 'fail', message: describeError(roleError) });
    } else {
      try {
        await ctx.credential.credential.getCredential();
        const expires = ctx.credential.sessionExpiresAt();
        const left = expires === undefined ? undefined : Math.round((expires - Date.now()) / 60_000);
        add({ id: 'ram-role', status: 'pass', message: `RAM role "${roleName}" attached${expires === undefined ? '' : `; its STS credentials expire at ${new Date(expires).toISOString()} (in ${left} min)`}` });
      } catch (error) {
        roleOk = false;
        add({ id: 'ram-role', status: 'fail', message: `RAM role "${roleName}": ${describeError(error)}` });
      }
    }
  } else {
    add({ id: 'metadata', status: 'skip', message: `not used: the identity is ${ctx.identity}` });
    add({ id: 'ram-role', status: 'skip', message: `not used: the identity is ${ctx.identity}` });
  }
  const regionNeeded = config.registries.some((r) => r.regionId === undefined);
  if (source.kind === 'ecs-ram-role' || regionNeeded) {
    try {
      nodeRegion = await metadata.regionId();
      add({ id: 'region', status: 'pass', message: `node region ${nodeRegion}` });
    } catch (error) {
      add({ id: 'region', status: regionNeeded ? 'fail' : 'warn', message: `node region unknown (${describeError(error)})${regionNeeded ? ': set regionId on every registries entry' : ''}` });
    }
  } else {
    add({ id: 'region', status: 'skip', message: 'not needed: every registry names its region' });
  }
  if (!roleOk) return nodeRegion === undefined ? {} : { nodeRegion };

  // --- CR API endpoints and permissions ----------------------------------------------------
  const targets = o.hosts.map((host) => classifyRegistryHost(host, config.registries));
  const regions = new Set<string>();
  for (const t of targets) {
    const r = regionOf(t, config, nodeRegion);
    if (r) regions.add(r);
  }
  if (regions.size === 0 && nodeRegion) regions.add(nodeRegion);
  for (const region of regions) await endpointCheck(ctx, region, add);
  const permRegion = nodeRegion && regions.has(nodeRegion) ? nodeRegion : [...regions][0];
  if (permRegion) await permissionChecks(ctx, permRegion, add);

  // --- instances, tokens, registry ---------------------------------------------------------
  for (const target of targets) await registryChecks(ctx, target, nodeRegion, o, add);
  return nodeRegion === undefined ? {} : { nodeRegion };
}

function regionOf(t: RegistryTarget, config: ProviderConfig, nodeRegion: string | undefined): string | undefined {
  if (t.kind === 'personal' || t.kind === 'enterprise' || t.kind === 'personal-dedicated') return t.region;
  if (t.kind === 'custom') return config.registries[t.entryIndex]?.regionId ?? nodeRegion;
  return undefined;
}

function api(ctx: Ctx, region: string): CrApi {
  let client = ctx.apis.get(region);
  if (!client) {
    client = new CrOpenApiClient({ region, endpoint: crEndpointFor(region, ctx.config.cr), credential: ctx.credential.credential, identity: ctx.identity, deadline: ctx.deadline() });
    ctx.apis.set(region, client);
  }
  return client;
}

async function endpointCheck(ctx: Ctx, region: string, add: (c: Check) => void): Promise<void> {
  let url: string;
  try {
    url = crEndpointFor(region, ctx.config.cr).url;
  } catch (error) {
    add({ id: `cr-endpoint.${region}`, status: 'fail', message: describeError(error) });
    return;
  }
  const kind = ctx.config.cr.endpointMap[region] || ctx.config.cr.endpointTemplate ? 'configured' : ctx.config.cr.network === 'vpc' ? 'VPC' : 'public';
  try {
    const r = await sendHttpRequest('GET', `${url}/`, {}, PROBE_TIMEOUT_MS);
    add({ id: `cr-endpoint.${region}`, status: 'pass', message: `${kind} CR API endpoint ${url} reachable (HTTP ${r.status})` });
  } catch (error) {
    const code = error instanceof HttpTransportError ? error.code : 'error';
    const hint = ctx.config.cr.network === 'vpc' ? 'check the VPC endpoint and security groups' : 'nodes without internet access need cr.network: vpc (cr-vpc.<region>.aliyuncs.com)';
    add({ id: `cr-endpoint.${region}`, status: 'fail', message: `${kind} CR API endpoint ${url} unreachable (${code}): ${hint}` });
  }
}

async function permissionChecks(ctx: Ctx, region: string, add: (c: Check) => void): Promise<void> {
  const a = api(ctx, region);
  let probeId = PROBE_INSTANCE_ID;
  const probe = async (action: string, call: () => Promise<unknown>): Promise<void> => {
    const id = `permission.cr:${action}`;
    try {
      await call();
      add({ id, status: 'pass', message: `allowed (${region})` });
    } catch (error) {
      if (isProviderError(error) && error.errorClass === 'not-found') {
        add({ id, status: 'pass', message: `allowed (${region}; the probe instance does not exist, as expected)` });
      } else if (isProviderError(error) && error.errorClass === 'permission') {
        add({ id, status: 'fail', message: describeError(error) });
      } else {
        add({ id, status: 'warn', message: `could not be checked: ${describeError(error)}` });
      }
    }
  };
  await probe('ListInstance', async () => {
    const page = await a.listInstance({ pageNo: 1, pageSize: 1 });
    if (page.instances[0]) probeId = page.instances[0].instanceId;
  });
  await probe('ListInstanceEndpoint', () => a.listInstanceEndpoint({ instanceId: probeId, moduleName: 'Registry' }));
  // Always the non-existent id: a real one would mint a token nobody uses.
  await probe('GetAuthorizationToken', () => a.getAuthorizationToken({ instanceId: PROBE_INSTANCE_ID }));
}

async function registryChecks(ctx: Ctx, target: RegistryTarget, nodeRegion: string | undefined, o: CloudCheckOptions, add: (c: Check) => void): Promise<void> {
  const host = target.host;
  if (target.kind === 'unrecognized') {
    add({ id: `token.${host}`, status: 'warn', message: `${host} is not an ACR host the provider recognises: it answers without credentials (add it under registries if it is a custom domain)` });
    return;
  }
  if (target.kind === 'personal-dedicated') {
    add({ id: `token.${host}`, status: 'fail', message: `${host} is a Personal Edition instance created after 2024-09-09: Alibaba Cloud offers no temporary-token API for it yet` });
    return;
  }
  const region = regionOf(target, ctx.config, nodeRegion);
  if (region === undefined) {
    add({ id: `token.${host}`, status: 'fail', message: `the region of ${host} is unknown: set regionId on its registries entry` });
    return;
  }
  const a = api(ctx, region);
  const scope: ResolverScope = { api: a, region, identityId: 'doctor', cache: undefined, identity: ctx.identity };
  let token: { username: string; password: string; expiresAt: number };
  try {
    if (target.kind === 'personal') {
      const t = await a.getPersonalAuthorizationToken();
      token = { username: t.tempUserName, password: t.authorizationToken, expiresAt: t.expireDate };
    } else {
      const entry = target.kind === 'custom' ? ctx.config.registries[target.entryIndex] : undefined;
      let instanceId: string;
      if (entry?.instanceId) {
        instanceId = entry.instanceId;
        add({ id: `instance.${host}`, status: 'pass', message: `instance ${instanceId} (configured) in ${region}` });
      } else {
        try {
          instanceId = target.kind === 'enterprise' ? await resolveInstanceByName(scope, target.instanceName) : await resolveInstanceByDomain(scope, host);
        } catch (error) {
          add({ id: `instance.${host}`, status: 'fail', message: describeError(error) });
          return;
        }
        add({ id: `instance.${host}`, status: 'pass', message: `${target.kind === 'enterprise' ? `instance name "${target.instanceName}"` : 'custom domain'} resolves to ${instanceId} in ${region}` });
      }
      const t = await a.getAuthorizationToken({ instanceId });
      token = { username: t.tempUsername, password: t.authorizationToken, expiresAt: t.expireTime };
    }
  } catch (error) {
    add({ id: `token.${host}`, status: 'fail', message: describeError(error) });
    return;
  }
  registerSecret(token.password);
  const minutes = Math.round((token.expiresAt - Date.now()) / 60_000);
  add({ id: `token.${host}`, status: minutes > 0 ? 'pass' : 'fail', message: `registry token obtained for ${host} (user ${token.username}, expires ${new Date(token.expiresAt).toISOString()}, in ${minutes} min; not shown)` });
  if (o.checkRegistry) await registryGet(host, token, o.registryEndpoints[host] ?? `https://${host}`, add);
}

async function registryGet(host: string, token: { username: string; password: string }, base: string, add: (c: Check) => void): Promise<void> {
  const id = `registry.${host}`;
  const auth = `Basic ${Buffer.from(`${token.username}:${token.password}`).toString('base64')}`;
  try {
    const r = await sendHttpRequest('GET', `${base.replace(/\/+$/, '')}/v2/`, { Authorization: auth }, PROBE_TIMEOUT_MS);
    if (r.status === 200) add({ id, status: 'pass', message: `GET ${base}/v2/ with the token: 200, the registry accepts it` });
    else if (r.status === 401) add({ id, status: 'fail', message: `GET ${base}/v2/ with the token: 401, the registry refused the token (wrong instance, expired, or the role lacks cr:PullRepository)` });
    else add({ id, status: 'warn', message: `GET ${base}/v2/ with the token: unexpected HTTP ${r.status}` });
  } catch (error) {
    const code = error instanceof HttpTransportError ? error.code : 'error';
    add({ id, status: 'fail', message: `GET ${base}/v2/ failed (${code}): the node cannot reach the registry` });
  }
}
