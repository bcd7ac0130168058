// ECS instance metadata service emulator (the 100.100.100.200 endpoint), on 127.0.0.1:<port>.
// Serves the hardened-mode token, the region id and the RAM role's STS credentials, which it
// takes from the shared CloudState so the CR emulator accepts them.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CloudState, StsCredentials } from './cloud-state.ts';
import type { FaultSpec } from './faults.ts';
import { delayOrReset, readBody, sendJson, sendText, sendTruncatedJson, startHttpServer } from './http-util.ts';

/** optional: tokens work, tokenless GETs too; required: hardened-only; unsupported: no token API. */
export type ImdsMode = 'optional' | 'required' | 'unsupported';

export interface ImdsOptions {
  state: CloudState;
  regionId: string;
  /** RAM role attached to the instance, or null for none. */
  roleName: string | null;
  mode?: ImdsMode;
}

export interface ImdsServer {
  url: string;
  instanceId: string;
  setMode(mode: ImdsMode): void;
  setRole(name: string | null): void;
  setRegion(regionId: string): void;
  /** `pathPrefix` like '/latest/api/token', '/latest/meta-data/ram/' or '*'. */
  injectFault(pathPrefix: string, fault: FaultSpec): void;
  /** The identity the attached role maps to in CloudState ("role/<name>"). */
  identity(): string | null;
  close(): Promise<void>;
}

const TOKEN_PATH = '/latest/api/token';
const CREDS_PREFIX = '/latest/meta-data/ram/security-credentials/';
const MAX_TOKEN_TTL_S = 21600;

/** IMDS prints times as YYYY-MM-DDTHH:MM:SSZ (no milliseconds); @alicloud/credentials insists on it. */
export function imdsTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function roleIdentity(roleName: string): string {
  return `role/${roleName}`;
}

function credentialsDocument(c: StsCredentials): Record<string, string> {
  return {
    AccessKeyId: c.accessKeyId,
    AccessKeySecret: c.accessKeySecret,
    Expiration: imdsTime(c.expiresAt),
    SecurityToken: c.securityToken,
    LastUpdated: imdsTime(c.issuedAt),
    Code: 'Success',
  };
}

export async function startImdsServer(opts: ImdsOptions): Promise<ImdsServer> {
  const { state } = opts;
  let mode: ImdsMode = opts.mode ?? 'optional';
  let roleName = opts.roleName;
  let regionId = opts.regionId;
  const instanceId = `i-${randomBytes(10).toString('hex')}`;
  const tokens = new Map<string, number>(); // token → expiry (cloud clock)

  const handle = async (req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> => {
    await readBody(req, 64 * 1024);
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://imds').pathname;
    const log = (status: number, code?: string, faulted?: boolean): void =>
      state.recordCall({
        server: 'imds',
        region: regionId,
        action: path,
        method,
        path,
        status,
        ...(code !== undefined ? { code } : {}),
        ...(faulted ? { faulted } : {}),
      });

    const fault = state.faults.take('imds', (key) => key === '*' || path.startsWith(key));
    if (fault) {
      if (await delayOrReset(fault, req, signal)) {
        log(0, 'ConnectionReset', true);
        return;
      }
      if (fault.throttle) {
        log(429, fault.code ?? 'Throttling', true);
        return sendText(res, 429, fault.message ?? '429 - Too Many Requests');
      }
      if (fault.status !== undefined) {
        log(fault.status, fault.code, true);
        return sendText(res, fault.status, fault.message ?? `${fault.status} - Error`);
      }
      if (fault.malformedJson) {
        log(200, undefined, true);
        return sendTruncatedJson(res, { AccessKeyId: 'STS.truncated', AccessKeySecret: 'truncated', Expiration: imdsTime(state.now()), Code: 'Success' });
      }
      // delay-only fault: answer normally below.
    }

    if (path === TOKEN_PATH) {
      if (method !== 'PUT') return (log(405), sendText(res, 405, '405 - Method Not Allowed'));
      if (mode === 'unsupported') return (log(404), sendText(res, 404, '404 - Not Found'));
      const ttlRaw = req.headers['x-aliyun-ecs-metadata-token-ttl-seconds'];
      const ttl = typeof ttlRaw === 'string' && /^\d+$/.test(ttlRaw.trim()) ? Number(ttlRaw.trim()) : NaN;
      if (!(ttl >= 1 && ttl <= MAX_TOKEN_TTL_S)) return (log(400, 'InvalidTokenTTL'), sendText(res, 400, '400 - Bad Request'));
      const token = randomBytes(32).toString('base64url');
      tokens.set(token, state.now() + ttl * 1000);
      log(200);
      return sendText(res, 200, token);
    }

    if (method !== 'GET') return (log(405), sendText(res, 405, '405 - Method Not Allowed'));
    if (mode !== 'unsupported') {
      const token = req.headers['x-aliyun-ecs-metadata-token'];
      if (typeof token === 'string') {
        const until = tokens.get(token);
        if (until === undefined || until <= state.now()) return (log(401, 'InvalidToken'), sendText(res, 401, '401 - Unauthorized'));
      } else if (mode === 'required') {
        return (log(403, 'TokenRequired'), sendText(res, 403, '403 - Forbidden'));
      }
    }

    if (path === '/latest/meta-data/region-id') return (log(200), sendText(res, 200, regionId));
    if (path === '/latest/meta-data/instance-id') return (log(200), sendText(res, 200, instanceId));
    if (path === CREDS_PREFIX || path === CREDS_PREFIX.slice(0, -1)) {
      if (roleName === null) return (log(404, 'NoRole'), sendText(res, 404, '404 - Not Found'));
      log(200);
      return sendText(res, 200, roleName);
    }
    if (path.startsWith(CREDS_PREFIX)) {
      const asked = decodeURIComponent(path.slice(CREDS_PREFIX.length));
      if (roleName === null || asked !== roleName) return (log(404, 'RoleNotFound'), sendText(res, 404, '404 - Not Found'));
      log(200);
      return sendJson(res, 200, credentialsDocument(state.stsCredentialsFor(roleIdentity(roleName))));
    }
    log(404);
    return sendText(res, 404, '404 - Not Found');
  };

  const server = await startHttpServer(handle);
  return {
    url: server.url,
    instanceId,
    setMode: (m) => {
      mode = m;
    },
    setRole: (name) => {
      roleName = name;
    },
    setRegion: (r) => {
      regionId = r;
    },
    injectFault: (pathPrefix, fault) => state.faults.add('imds', pathPrefix, fault),
    identity: () => (roleName === null ? null : roleIdentity(roleName)),
    close: () => server.close(),
  };
}
