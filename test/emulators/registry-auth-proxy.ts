// Basic-auth front for a real registry (Debian's docker-registry, the distribution v2 server):
// accepts exactly the username/password pairs the emulated CR API issued and that have not
// expired (optionally only those for one instance), answers 401 with a Basic challenge
// otherwise, and proxies everything else unchanged. The registry behind it runs without auth.
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { CloudState } from './cloud-state.ts';
import { sendText, startHttpServer } from './http-util.ts';

export interface RegistryAuthProxy {
  url: string;
  /** host:port, what image references use. */
  host: string;
  close(): Promise<void>;
}

export async function startRegistryAuthProxy(opts: { state: CloudState; upstream: string; instanceId?: string }): Promise<RegistryAuthProxy> {
  const upstream = new URL(opts.upstream);
  const authorized = (req: IncomingMessage): boolean => {
    const m = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m?.[1]) return false;
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const token = opts.state.validateRegistryToken(decoded.slice(0, colon), decoded.slice(colon + 1));
    return token !== undefined && (opts.instanceId === undefined || token.instanceId === opts.instanceId);
  };
  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const ok = authorized(req);
    opts.state.recordCall({ server: 'registry', region: 'local', action: req.url ?? '/', method: req.method ?? 'GET', path: req.url ?? '/', status: ok ? 200 : 401 });
    if (!ok) {
      return sendText(res, 401, '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}\n', {
        'www-authenticate': 'Basic realm="acr-emulator"',
        'docker-distribution-api-version': 'registry/2.0',
        'content-type': 'application/json',
      });
    }
    const headers = { ...req.headers, host: upstream.host };
    delete headers.authorization;
    await new Promise<void>((resolve, reject) => {
      const out = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (up) => {
        // Location headers point at the upstream: rewrite them to us.
        const h = { ...up.headers };
        if (typeof h.location === 'string') h.location = h.location.replace(upstream.origin, `http://${req.headers.host}`);
        res.writeHead(up.statusCode ?? 502, h);
        up.pipe(res);
        up.on('end', resolve);
        up.on('error', reject);
      });
      out.on('error', reject);
      req.pipe(out);
    });
  };
  const server = await startHttpServer(handler);
  return { url: server.url, host: server.url.replace('http://', ''), close: () => server.close() };
}
