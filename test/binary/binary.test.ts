// The single-file executables (npm run build:binary) as shipped. The black-box suite runs against
// the bundle elsewhere; here what depends on how the process is started: through the payload's
// wrapper and own loader as the kubelet runs it, every black-box file but the cache and cloud-fault
// logic (the same JavaScript, 30 s of CI), with the docker helper suite; the protocol, bad-input
// and CLI files against the bare amd64 binary, as the image's containers and a shell run it; the arm64 binary under qemu-user answering from an
// on-disk cache filled by the amd64 one while the cloud is gone.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmulators } from '../emulators/index.ts';
import type { Emulators } from '../emulators/index.ts';
import { kubeletRequest, parseResponse, REPO_ROOT, writeConfig } from '../helpers/run-provider.ts';
import { binaryOf, ensureBinaries, ensurePayloads, missingTool, payloadDirOf } from './build-outputs.ts';
import { parseManifest, payloadId } from '../../src/payload/manifest.ts';
import { PAYLOAD_MANIFEST } from '../../src/payload/layout.ts';
import { renderWrapper } from '../../src/payload/wrapper.ts';

const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const PE_IMAGE = 'registry.cn-hangzhou.aliyuncs.com/ns/app';
const QEMU = ['qemu-aarch64-static', '-L', '/usr/aarch64-linux-gnu'];
const qemuMissing = missingTool('qemu-aarch64-static') ?? (existsSync('/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1') ? undefined : 'not installed: libc6-arm64-cross (/usr/aarch64-linux-gnu)');

/** Black-box files about cache and cloud-fault logic, which does not depend on how the process starts. */
const LOGIC_ONLY = ['cache.test.ts', 'faults.test.ts'];

const MiB = (path: string): string => `${(statSync(path).size / 1024 / 1024).toFixed(1)} MiB`;

/** Runs `cmd` once like the kubelet does: clean environment, request on stdin (asynchronously:
 * the emulators answer from this process). */
function runOnce(cmd: string[], args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0]!, [...cmd.slice(1), ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['pipe', 'pipe', 'pipe'], timeout: 120_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
    child.stdin.end(stdin ?? '');
  });
}

before(() => ensureBinaries());

/** Runs test files with ACR_PROVIDER_BIN=bin in a nested runner; asserts every test passed. */
async function suiteOn(t: { diagnostic(message: string): void }, bin: string, files: string[], what: string, minimum: number): Promise<void> {
  // The runner's own context variable would make the nested runner talk its internal protocol.
  const { NODE_TEST_CONTEXT: _ignored, ...env } = process.env;
  // ACR_PROVIDER_BUNDLE points nowhere: had the suite not used the binary, every test would fail.
  const child = spawn(process.execPath, ['--test', '--test-reporter=tap', ...files], {
    cwd: REPO_ROOT,
    env: { ...env, ACR_PROVIDER_BIN: bin, ACR_PROVIDER_BUNDLE: join(REPO_ROOT, 'dist', 'no-such-bundle.cjs') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const started = performance.now();
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const summary: Record<string, number> = {};
  for (const m of out.matchAll(/^# (tests|suites|pass|fail|cancelled|skipped|todo) (\d+)$/gm)) summary[m[1]!] = Number(m[2]);
  t.diagnostic(`${what}: ${JSON.stringify(summary)} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const failures = [...out.matchAll(/^\s*not ok \d+ - (.+)$/gm)].map((m) => m[1]).slice(0, 10);
  assert.equal(code, 0, `${what} failed: ${failures.join('; ')}\n${err.slice(-2000)}`);
  assert.equal(summary.fail, 0);
  assert.equal(summary.cancelled, 0);
  assert.ok((summary.tests ?? 0) >= minimum, `expected at least ${minimum} tests, the runner reported ${summary.tests}`);
  assert.equal(summary.pass, (summary.tests ?? 0) - (summary.skipped ?? 0) - (summary.todo ?? 0));
}

describe('amd64 single-file binary', () => {
  it('passes the black-box protocol, bad-input and CLI tests run directly (ACR_PROVIDER_BIN)', { timeout: 15 * 60_000 }, async (t) => {
    const bin = binaryOf('amd64');
    t.diagnostic(`binary size: ${MiB(bin)} (${bin})`);
    const files = ['happy-paths', 'bad-input', 'cli'].map((f) => `test/blackbox/${f}.test.ts`);
    await suiteOn(t, bin, files, 'black-box protocol, bad-input and CLI tests on the binary', 20);
  });
});

describe('amd64 payload through its wrapper', () => {
  let dir = '';
  before(async () => {
    await ensurePayloads();
    dir = mkdtempSync(join(tmpdir(), 'acr-wrapper-suite-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('passes the black-box suite (but its cache and fault logic) and the docker helper suite started as the kubelet will start it', { timeout: 15 * 60_000 }, async (t) => {
    // Installed as the installer will: the manifest's files, the wrapper in a bin dir.
    const payload = payloadDirOf('amd64');
    const manifest = parseManifest(readFileSync(join(payload, PAYLOAD_MANIFEST), 'utf8'));
    const install = join(dir, 'opt', payloadId(manifest));
    for (const f of manifest.files) {
      mkdirSync(dirname(join(install, f.path)), { recursive: true });
      linkSync(join(payload, f.path), join(install, f.path));
    }
    const wrapper = join(dir, 'bin', 'aliyun-acr-credential-provider');
    mkdirSync(dirname(wrapper));
    writeFileSync(wrapper, renderWrapper(install, manifest.loader), { mode: 0o755 });
    chmodSync(dir, 0o755);
    const blackbox = readdirSync(join(REPO_ROOT, 'test', 'blackbox')).filter((f) => f.endsWith('.test.ts') && !LOGIC_ONLY.includes(f));
    await suiteOn(t, wrapper, [...blackbox.map((f) => `test/blackbox/${f}`), 'test/identity/docker-helper.test.ts'], 'black-box and docker helper suites through the wrapper', 55);
  });
});

describe('arm64 single-file binary under qemu-user', { skip: qemuMissing }, () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'acr-arm64-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('--version prints the package version', async (t) => {
    const bin = binaryOf('arm64');
    t.diagnostic(`binary size: ${MiB(bin)}`);
    assert.match(readFileSync(bin).subarray(0, 20).toString('latin1'), /^\x7fELF/);
    const r = await runOnce([...QEMU, bin], ['--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), VERSION);
    t.diagnostic(`--version under qemu: ${r.ms.toFixed(0)} ms`);
  });

  it('answers from the on-disk cache the amd64 binary filled, with the cloud gone', async (t) => {
    let e: Emulators | undefined = await startEmulators();
    try {
      const config = writeConfig(dir, e);
      const first = await runOnce([binaryOf('amd64')], ['--config', config], kubeletRequest(PE_IMAGE));
      assert.equal(first.code, 0, first.stderr);
      const issued = parseResponse(first.stdout).auth?.['registry.cn-hangzhou.aliyuncs.com'];
      assert.ok(issued, 'the amd64 binary returned credentials');
      assert.equal(e.state.issuedTokens().filter((tk) => tk.password === issued.password).length, 1, 'the token came from the emulated CR API');
      const imdsUrl = e.imds.url;
      await e.close();
      e = undefined;
      await assert.rejects(fetch(imdsUrl), 'the metadata endpoint must be closed now');

      const hit = await runOnce([...QEMU, binaryOf('arm64')], ['--config', config], kubeletRequest(PE_IMAGE));
      assert.equal(hit.code, 0, `arm64 binary failed: ${hit.stderr}`);
      const response = parseResponse(hit.stdout);
      assert.equal(response.cacheKeyType, 'Registry');
      assert.deepEqual(response.auth?.['registry.cn-hangzhou.aliyuncs.com'], issued, 'the arm64 binary served the cached token');
      t.diagnostic(`arm64 cache hit under qemu: ${hit.ms.toFixed(0)} ms`);

      // Control: a registry that is not cached needs the cloud, and there is none.
      const miss = await runOnce([...QEMU, binaryOf('arm64')], ['--config', config, '--timeout', '3s'], kubeletRequest('registry.cn-shanghai.aliyuncs.com/ns/app'));
      assert.notEqual(miss.code, 0, 'a cache miss cannot succeed without the cloud');
      assert.equal(miss.stdout, '');
    } finally {
      await e?.close();
    }
  });
});
