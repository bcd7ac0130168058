// A per-test "node": its own emulators, temp directory, cache dir and config file. On teardown it
// checks that no secret the emulators handed out (registry passwords, STS AccessKeySecret and
// SecurityToken) appeared on stderr of any invocation it ran, then closes and cleans up.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulators } from '../emulators/index.ts';
import type { EmulatorOptions, Emulators } from '../emulators/index.ts';
import { kubeletRequest, runProvider, writeConfig } from './run-provider.ts';
import type { RunOptions, RunResult } from './run-provider.ts';

export const NODE_ROLE = 'acr-node-role';
export const NODE_IDENTITY = `role/${NODE_ROLE}`;

export interface Cloud {
  e: Emulators;
  /** Temp directory of this test (removed on teardown). */
  dir: string;
  /** Default cache directory (dir/cache, created by the provider). */
  cacheDir: string;
  /** Default config file (JSON) pointing at the emulators. */
  configPath: string;
  /** Runs the provider in kubelet mode for `image` with the default config. */
  request(image: string, opts?: { apiVersion?: string; args?: string[]; env?: Record<string, string>; config?: string } & Omit<RunOptions, 'stdin' | 'args' | 'env'>): Promise<RunResult>;
  /** Runs the provider with the given options, the default config added unless args has --config. */
  run(opts: RunOptions): Promise<RunResult>;
  /** Every invocation this cloud ran. */
  runs: RunResult[];
  /** Extra secrets to check stderr for (e.g. static AccessKeys set through env). */
  extraSecrets: string[];
}

/** All secrets the cloud handed out that a provider could have seen. */
export function secretsOf(e: Emulators, extra: readonly string[] = []): string[] {
  const secrets = new Set<string>(extra);
  const keyIds = new Set<string>();
  for (const t of e.state.issuedTokens()) {
    secrets.add(t.password);
    keyIds.add(t.accessKeyId);
  }
  for (const c of e.calls()) if (c.accessKeyId) keyIds.add(c.accessKeyId);
  // The current IMDS session of the node role (issued on the first credentials GET).
  if (e.calls({ server: 'imds' }).some((c) => c.path.startsWith('/latest/meta-data/ram/security-credentials/') && c.status === 200)) {
    const s = e.state.stsCredentialsFor(NODE_IDENTITY);
    keyIds.add(s.accessKeyId);
  }
  for (const id of keyIds) {
    const rec = e.state.lookupAccessKey(id);
    if (!rec) continue;
    secrets.add(rec.accessKeySecret);
    if (rec.securityToken) secrets.add(rec.securityToken);
  }
  return [...secrets].filter((s) => s.length >= 8);
}

export function assertNoSecretsIn(label: string, text: string, secrets: readonly string[]): void {
  for (const s of secrets) {
    assert.ok(!text.includes(s), `${label} contains a secret (${s.slice(0, 4)}…)`);
  }
}

export async function withCloud<T>(fn: (c: Cloud) => Promise<T>, options: EmulatorOptions & { config?: Record<string, unknown> } = {}): Promise<T> {
  const { config, ...emulatorOptions } = options;
  const e = await startEmulators(emulatorOptions);
  const dir = mkdtempSync(join(tmpdir(), 'acr-bb-'));
  const runs: RunResult[] = [];
  const configPath = writeConfig(dir, e, config ?? {});
  const hasConfig = (args: readonly string[]): boolean => args.some((a) => a === '--config' || a.startsWith('--config='));
  const cloud: Cloud = {
    e,
    dir,
    cacheDir: join(dir, 'cache'),
    configPath,
    runs,
    extraSecrets: [],
    async run(opts) {
      const args = opts.args ?? [];
      const r = await runProvider({ ...opts, args: hasConfig(args) ? args : [...args, '--config', configPath] });
      runs.push(r);
      return r;
    },
    async request(image, opts = {}) {
      const { apiVersion, args, env, config: cfg, ...rest } = opts;
      const allArgs = [...(args ?? [])];
      if (!hasConfig(allArgs)) allArgs.push('--config', cfg ?? configPath);
      const r: RunResult = { ...(await runProvider({ ...rest, args: allArgs, stdin: kubeletRequest(image, apiVersion ?? 'v1'), ...(env ? { env } : {}) })), image };
      runs.push(r);
      return r;
    },
  };
  try {
    const result = await fn(cloud);
    const secrets = secretsOf(e, cloud.extraSecrets);
    for (const r of runs) assertNoSecretsIn(`stderr of "${r.args.join(' ')}"`, r.stderr, secrets);
    return result;
  } finally {
    await e.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Default image hosts used throughout the suites. */
export const PE_HOST = 'registry.cn-hangzhou.aliyuncs.com';
export const eeHost = (name: string, region = 'cn-hangzhou', vpc = false): string => `${name}-registry${vpc ? '-vpc' : ''}.${region}.cr.aliyuncs.com`;

/** Counts calls of a server, optionally of one action/region. */
export function count(e: Emulators, filter: Parameters<Emulators['calls']>[0] = {}): number {
  return e.calls(filter).length;
}

/** The Personal Edition token call (2016-06-07 ROA GET /tokens) as the emulator logs it. */
export function personalTokenCalls(e: Emulators, region?: string): number {
  return e.calls({ server: 'cr', ...(region ? { region } : {}) }).filter((c) => c.path === '/tokens').length;
}

/** EE token calls (2018-12-01 RPC GetAuthorizationToken), excluding the Personal /tokens ones. */
export function eeTokenCalls(e: Emulators, region?: string): number {
  return e.calls({ server: 'cr', action: 'GetAuthorizationToken', ...(region ? { region } : {}) }).filter((c) => c.path !== '/tokens').length;
}
