// Runs the built provider exactly as the kubelet does: a fresh process, a clean environment, one
// request on stdin, stdout and stderr captured. Every invocation's output is also remembered in
// a module-level registry so suites can check that no secret ever reached stderr.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Emulators } from '../emulators/index.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BUNDLE_PATH = join(REPO_ROOT, 'dist', 'aliyun-acr-credential-provider.cjs');

export const API_GROUP = 'credentialprovider.kubelet.k8s.io';
export const API_VERSIONS = ['v1', 'v1beta1', 'v1alpha1'] as const;
export type ApiVersionShort = (typeof API_VERSIONS)[number];

export interface RunOptions {
  args?: string[];
  /** Written to stdin, which is then closed. undefined: stdin is closed without data. */
  stdin?: string;
  /** Added to the clean child environment (which holds PATH only). */
  env?: Record<string, string>;
  /** The child is killed (SIGKILL) after this long; code is then null. Default 65 s. */
  timeoutMs?: number;
  uid?: number;
  gid?: number;
  cwd?: string;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall-clock time of the whole process. */
  ms: number;
  args: string[];
  /** The image of the kubelet request on stdin, when the run was one (Cloud.request). */
  image?: string;
}

/** Every invocation made in this process (one test file), in order. */
export const invocations: RunResult[] = [];

/**
 * How the provider is started: ACR_PROVIDER_BIN (an executable, e.g. the single-file binary)
 * directly; else the bundle (ACR_PROVIDER_BUNDLE, default dist/…cjs) under this Node.
 */
export function providerCommand(): { file: string; prefix: string[] } {
  const bin = process.env.ACR_PROVIDER_BIN;
  if (bin) return { file: bin, prefix: [] };
  return { file: process.execPath, prefix: [process.env.ACR_PROVIDER_BUNDLE || BUNDLE_PATH] };
}

export function runProvider(options: RunOptions = {}): Promise<RunResult> {
  const args = options.args ?? [];
  const { file, prefix } = providerCommand();
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...(options.env ?? {}) };
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...prefix, ...args], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      ...(options.uid !== undefined ? { uid: options.uid } : {}),
      ...(options.gid !== undefined ? { gid: options.gid } : {}),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    // The provider may stop reading early (oversized input): EPIPE on our side is expected.
    child.stdin.on('error', () => undefined);
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 65_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result: RunResult = {
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: performance.now() - started,
        args,
      };
      invocations.push(result);
      resolve(result);
    });
    if (options.stdin !== undefined) child.stdin.end(options.stdin);
    else child.stdin.end();
  });
}

/** The exact bytes the kubelet writes for `image` (docs/reference/kubelet-protocol.md §1.7, §8(d)). */
export function kubeletRequest(image: string, apiVersion: ApiVersionShort | string = 'v1'): string {
  const version = apiVersion.includes('/') ? apiVersion : `${API_GROUP}/${apiVersion}`;
  return `{"kind":"CredentialProviderRequest","apiVersion":${JSON.stringify(version)},"image":${JSON.stringify(image)}}\n`;
}

export function fullApiVersion(v: string): string {
  return v.includes('/') ? v : `${API_GROUP}/${v}`;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Writes a JSON provider config pointing at the emulators and returns its path. `extra` is merged
 * on top (one level deep for `metadata` and `cr`). The file is world-readable so a child running
 * under another uid can read it.
 */
export function writeConfig(dir: string, emulators: Emulators, extra: Json = {}, name = 'config.json'): string {
  const { metadata, cr, ...rest } = extra;
  const config: Json = {
    cacheDir: join(dir, 'cache'),
    ...rest,
    metadata: { endpoint: emulators.imds.url, ...(isObject(metadata) ? metadata : {}) },
    cr: { endpoint: emulators.cr.endpoints(), ...(isObject(cr) ? cr : {}) },
  };
  const path = join(dir, name);
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
  chmodSync(path, 0o644);
  return path;
}

export interface AuthEntry {
  username: string;
  password: string;
}

export interface ProviderResponse {
  kind: string;
  apiVersion: string;
  cacheKeyType: string;
  cacheDuration?: string;
  auth?: Record<string, AuthEntry>;
  [key: string]: unknown;
}

/** Asserts stdout is exactly one JSON object followed by one newline, and returns it. */
export function parseResponse(stdout: string): ProviderResponse {
  assert.ok(stdout.endsWith('\n'), `stdout must end with a newline: ${JSON.stringify(stdout.slice(-80))}`);
  const body = stdout.slice(0, -1);
  assert.ok(!body.includes('\n'), `stdout must be one line: ${JSON.stringify(stdout.slice(0, 200))}`);
  assert.ok(body.startsWith('{') && body.endsWith('}'), `stdout must be one JSON object: ${JSON.stringify(body.slice(0, 200))}`);
  const doc: unknown = JSON.parse(body);
  assert.ok(isObject(doc), 'stdout JSON must be an object');
  return doc as ProviderResponse;
}

/** Parses a Go time.Duration string (as time.ParseDuration would) into milliseconds. */
export function parseGoDurationMs(s: string): number {
  assert.match(s, /^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$/, `not a Go duration: ${JSON.stringify(s)}`);
  if (s === '0') return 0;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const m of s.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * (unit[m[2] ?? ''] ?? NaN);
  assert.ok(Number.isFinite(total), `cannot parse ${s}`);
  return total;
}

/** Non-empty stderr lines. */
export function stderrLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '');
}

/** No JS stack trace, no raw "Error:" dump, no "node:internal" noise. */
export function assertNoStackTrace(text: string): void {
  assert.doesNotMatch(text, /^\s+at\s/m, `stack trace found: ${text}`);
  assert.doesNotMatch(text, /(^|\s)(Type|Range|Syntax|Reference)?Error: /m, `JS error dump found: ${text}`);
  assert.doesNotMatch(text, /node:internal/, `node internals found: ${text}`);
  assert.doesNotMatch(text, /^\s*throw\s/m, `uncaught throw source found: ${text}`);
}

/** A failure as the kubelet must see it: non-zero exit, nothing on stdout, one clean stderr line. */
export function assertOneLineFailure(r: RunResult, pattern?: RegExp): string {
  assert.notEqual(r.code, 0, `expected a non-zero exit; stdout=${r.stdout} stderr=${r.stderr}`);
  assert.notEqual(r.code, null, `the process was killed (signal ${r.signal}); stderr=${r.stderr}`);
  assert.equal(r.stdout, '', 'stdout must be empty on failure');
  const lines = stderrLines(r.stderr);
  assert.equal(lines.length, 1, `expected exactly one stderr line, got ${lines.length}: ${r.stderr}`);
  assertNoStackTrace(r.stderr);
  const line = lines[0] ?? '';
  if (pattern) assert.match(line, pattern);
  return line;
}

/** A success: exit 0 and a well-formed response. */
export function assertSuccess(r: RunResult): ProviderResponse {
  assert.equal(r.code, 0, `expected exit 0, got ${r.code}; stderr=${r.stderr}`);
  assertNoStackTrace(r.stderr);
  return parseResponse(r.stdout);
}
