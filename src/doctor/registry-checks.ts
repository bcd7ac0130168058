// The doctor's per-registry checks: which instance a host resolves to and a real token (never
// printed), obtained through the provider's own dispatch (fetchToken) with the identity kubelet
// mode would use, so the doctor cannot drift from what the kubelet gets. Optionally a GET /v2/ on
// the registry with that token. Each token call is remembered for the permission report.
import type { RegistryTarget } from '../acr/registry-host.ts';
import type { RegistryEntry } from '../config/schema.ts';
import { describeError } from '../errors.ts';
import { readCredentialFile } from '../identity/credential-file.ts';
import { registerSecret } from '../log/logger.ts';
import { HttpTransportError, sendHttpRequest } from '../net/http-request.ts';
import type { CloudSession } from '../provider/cloud-session.ts';
import { fetchToken, knownRegion, type InstanceSource } from '../provider/fetch-token.ts';
import type { Check } from './report.ts';
import type { DoctorSessions } from './sessions.ts';

const REGISTRY_TIMEOUT_MS = 5000;

/** One GetAuthorizationToken the doctor made, for permission.cr:GetAuthorizationToken. */
export interface TokenAttempt {
  /** The instance id, or undefined for Personal Edition (2016-06-07 /tokens). */
  instanceId: string | undefined;
  region: string;
  session: CloudSession;
  /** From the call's outcome: ok, a RAM denial, or anything else. */
  outcome: 'allowed' | 'denied' | 'other';
}

export interface RegistryCheckOptions {
  checkRegistry: boolean;
  /** host → base URL for the registry check (tests, proxies); default https://<host>. */
  registryEndpoints: Record<string, string>;
}

export async function registryChecks(target: RegistryTarget, entry: RegistryEntry | undefined, sessions: DoctorSessions, o: RegistryCheckOptions, add: (c: Check) => void): Promise<TokenAttempt[]> {
  const host = target.host;
  if (target.kind === 'unrecognized') {
    add({ id: `token.${host}`, status: 'warn', message: `${host} is not an ACR host the provider recognises: it answers without credentials (add it under registries if it is a custom domain)` });
    return [];
  }
  let plan;
  try {
    plan = sessions.plan(host, entry);
  } catch (error) {
    add({ id: `token.${host}`, status: 'fail', message: describeError(error) });
    return [];
  }
  if (plan.kind === 'deny') {
    add({ id: `token.${host}`, status: 'skip', message: `no credentials for ${host} without a pod: ${plan.reason}` });
    return [];
  }
  if (plan.kind === 'credential-file') {
    try {
      const file = readCredentialFile(plan.path);
      add({ id: `token.${host}`, status: 'pass', message: `credentials for ${host} from ${plan.path} (user ${file.username}; not shown)` });
      if (o.checkRegistry) await registryGet(host, file, o.registryEndpoints[host] ?? `https://${host}`, add);
    } catch (error) {
      add({ id: `token.${host}`, status: 'fail', message: describeError(error) });
    }
    return [];
  }

  const session = sessions.session(plan);
  const callsBefore = session.summary.calls.length;
  let instance: { id: string; source: InstanceSource; region: string } | undefined;
  let resolving = false;
  const attempts = (): TokenAttempt[] => tokenAttempts(session, callsBefore, instance, knownRegion(target, session.config.registries));
  try {
    const fetched = await fetchToken(target, session, { onResolving: () => (resolving = true), onInstance: (id, source, region) => (instance = { id, source, region }) });
    if (fetched.kind === 'none') {
      add({ id: `instance.${host}`, status: 'warn', message: fetched.reason });
      add({ id: `token.${host}`, status: 'skip', message: `no token: the provider answers ${host} without credentials (see instance.${host})` });
      return attempts();
    }
    if (instance) add({ id: `instance.${host}`, status: 'pass', message: describeInstance(target, instance) });
    const token = fetched.entry;
    registerSecret(token.password);
    const minutes = Math.round((token.expiresAt - Date.now()) / 60_000);
    add({ id: `token.${host}`, status: minutes > 0 ? 'pass' : 'fail', message: `registry token obtained for ${host} as ${session.identity} (user ${token.username}, expires ${new Date(token.expiresAt).toISOString()}, in ${minutes} min; not shown)` });
    if (o.checkRegistry) await registryGet(host, token, o.registryEndpoints[host] ?? `https://${host}`, add);
  } catch (error) {
    add({ id: resolving && instance === undefined ? `instance.${host}` : `token.${host}`, status: 'fail', message: describeError(error) });
  }
  return attempts();
}

function describeInstance(target: RegistryTarget, instance: { id: string; source: InstanceSource; region: string }): string {
  if (instance.source === 'configured') return `instance ${instance.id} (configured) in ${instance.region}`;
  if (instance.source === 'name' && target.kind === 'enterprise') return `instance name "${target.instanceName}" resolves to ${instance.id} in ${instance.region}`;
  return `custom domain resolves to ${instance.id} in ${instance.region}`;
}

/** The token calls this target's fetch made, read from the session's call log. */
function tokenAttempts(session: CloudSession, from: number, instance: { id: string; region: string } | undefined, targetRegion: string | undefined): TokenAttempt[] {
  const calls = session.summary.calls.slice(from).filter((c) => c.action === 'GetAuthorizationToken');
  const last = calls.at(-1);
  if (!last) return [];
  const region = instance?.region ?? targetRegion ?? '';
  const outcome = last.outcome === 'ok' ? 'allowed' : last.outcome === 'permission' ? 'denied' : 'other';
  return [{ instanceId: instance?.id, region, session, outcome }];
}

async function registryGet(host: string, token: { username: string; password: string }, base: string, add: (c: Check) => void): Promise<void> {
  const id = `registry.${host}`;
  const auth = `Basic ${Buffer.from(`${token.username}:${token.password}`).toString('base64')}`;
  try {
    const r = await sendHttpRequest('GET', `${base.replace(/\/+$/, '')}/v2/`, { Authorization: auth }, REGISTRY_TIMEOUT_MS);
    if (r.status === 200) add({ id, status: 'pass', message: `GET ${base}/v2/ with the token: 200, the registry accepts it` });
    else if (r.status === 401) add({ id, status: 'fail', message: `GET ${base}/v2/ with the token: 401, the registry refused the token (wrong instance, expired, or the role lacks cr:PullRepository)` });
    else add({ id, status: 'warn', message: `GET ${base}/v2/ with the token: unexpected HTTP ${r.status}` });
  } catch (error) {
    const code = error instanceof HttpTransportError ? error.code : 'error';
    add({ id, status: 'fail', message: `GET ${base}/v2/ failed (${code}): the node cannot reach the registry` });
  }
}
