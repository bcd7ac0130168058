// Shared set-up of the identity suites: an RRSA-enabled cluster (OIDC provider + roles) in the
// emulated cloud, kubelet requests that carry a ServiceAccount token, and a runner for the
// binary under its docker credential helper name.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Emulators, OidcProvider, RamRole, ServiceAccountTokenInput } from '../emulators/index.ts';
import { mintServiceAccountToken } from '../emulators/index.ts';
import type { Cloud } from '../helpers/cloud.ts';
import { API_GROUP, BUNDLE_PATH, invocations, writeConfig, type RunResult } from '../helpers/run-provider.ts';

export const ROLE_ANNOTATION = 'pod-identity.alibabacloud.com/role-name';

export interface Rrsa {
  provider: OidcProvider;
  role: RamRole;
  /** Mints a token for namespace/name (and registers it as a secret stderr must not show). */
  token(namespace: string, name: string, extra?: Partial<ServiceAccountTokenInput>): string;
}

export function setUpRrsa(c: Cloud, subjects = ['system:serviceaccount:*']): Rrsa {
  const provider = c.e.state.addOidcProvider({ name: 'ack-rrsa-c0ffee' });
  const role = c.e.state.addRole({ name: 'acr-puller', trust: { oidc: { providerArn: provider.arn, subjects } } });
  return {
    provider,
    role,
    token(namespace, name, extra = {}) {
      const t = mintServiceAccountToken(provider, { namespace, name, ...extra });
      c.extraSecrets.push(t);
      return t;
    },
  };
}

/** A v1 request as a 1.34 kubelet with tokenAttributes writes it. */
export function saRequest(image: string, token?: string, annotations?: Record<string, string>): string {
  const doc: Record<string, unknown> = { kind: 'CredentialProviderRequest', apiVersion: `${API_GROUP}/v1`, image };
  if (token !== undefined) doc.serviceAccountToken = token;
  if (annotations !== undefined) doc.serviceAccountAnnotations = annotations;
  return `${JSON.stringify(doc)}\n`;
}

/** A config file for these suites: the emulators plus STS, and `extra` on top. */
export function identityConfig(c: Cloud, extra: Record<string, unknown>, name = 'identity.json'): string {
  const sts = c.e.sts;
  if (!sts) throw new Error('start the emulators with sts: true');
  return writeConfig(c.dir, c.e, { sts: { endpoint: sts.url }, ...extra }, name);
}

export function stsCalls(e: Emulators, action?: 'AssumeRole' | 'AssumeRoleWithOIDC') {
  return e.calls({ server: 'sts', ...(action ? { action } : {}) });
}

export function crCalls(e: Emulators) {
  return e.calls({ server: 'cr' });
}

/**
 * Makes `dir/bin/docker-credential-aliyun-acr`: a symlink to the provider (the SEA binary when
 * ACR_PROVIDER_BIN is set, else the bundle, which runs through its shebang... under the Node
 * running the tests, via a one-line wrapper next to it). Returns the bin directory.
 */
export function helperBin(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const target = process.env.ACR_PROVIDER_BIN || process.env.ACR_PROVIDER_BUNDLE || BUNDLE_PATH;
  symlinkSync(target, join(bin, 'docker-credential-aliyun-acr'));
  chmodSync(bin, 0o755);
  return bin;
}

/** Runs `<bin>/docker-credential-aliyun-acr <args>` (through this Node for the bundle). */
export function runHelperByName(bin: string, args: string[], stdin: string | undefined, env: Record<string, string> = {}): Promise<RunResult> {
  const link = join(bin, 'docker-credential-aliyun-acr');
  const viaNode = !process.env.ACR_PROVIDER_BIN;
  const file = viaNode ? process.execPath : link;
  const argv = viaNode ? [link, ...args] : args;
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.stdin.on('error', () => undefined);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const r: RunResult = { code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ms: 0, args };
      invocations.push(r);
      resolve(r);
    });
    child.stdin.end(stdin ?? '');
  });
}
