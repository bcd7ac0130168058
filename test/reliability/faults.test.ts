// Fault injection against the emulators, each case asserting the answer (credentials or one
// clear line), the total time under the kubelet's 60 s, and that the next invocation succeeds
// on a healthy cache. Already covered in test/blackbox and not repeated here:
//   faults.test.ts  — CR 503/throttling/reset/truncated JSON once then success; IMDS 500/429
//                     once; persistent CR 503; permission denied; instance not running;
//                     unreachable or 500-forever metadata; no RAM role; CR and IMDS hanging past
//                     the deadline;
//   cache.test.ts   — garbage, truncated, wrong-shape and empty token files; an unwritable
//                     cache directory; a cache path under a regular file; a world-writable one.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertCredentials } from '../helpers/assert-response.ts';
import { eeHost, eeTokenCalls, PE_HOST, personalTokenCalls, withCloud, type Cloud } from '../helpers/cloud.ts';
import { assertNoStackTrace, assertOneLineFailure, kubeletRequest, providerCommand, writeConfig, type RunResult } from '../helpers/run-provider.ts';
import { assertCacheHealthy, assertNoSecretsInObservability, sample } from './helpers.ts';

const KUBELET_LIMIT_MS = 60_000;
const EE = eeHost('acme');

function inTime(r: RunResult): void {
  assert.ok(r.ms < KUBELET_LIMIT_MS, `took ${r.ms} ms`);
}

/** After a fault: the next call gets fresh credentials and the cache is sound. */
async function recovers(c: Cloud, image: string, host: string, args: string[] = []): Promise<void> {
  c.e.state.faults.clear();
  const r = await c.request(image, { args });
  assertCredentials(r, c.e, { host, quiet: false });
  inTime(r);
  assertCacheHealthy(c.cacheDir);
}

describe('metadata faults', { concurrency: true }, () => {
  it('hardened-only metadata that fails the session-token PUT twice: retried, then credentials', () =>
    withCloud(
      async (c) => {
        c.e.imds.injectFault('/latest/api/token', { status: 500, times: 2 });
        const r = await c.request(`${PE_HOST}/ns/app`);
        assertCredentials(r, c.e, { host: PE_HOST, quiet: true });
        inTime(r);
        assert.ok(c.e.calls({ server: 'imds' }).every((x) => x.path === '/latest/api/token' || x.status !== 200 || x.method === 'GET'));
        await recovers(c, `${PE_HOST}/ns/other`, PE_HOST);
      },
      { imdsMode: 'required' },
    ));

  it('hardened-only metadata with IMDSv1 disabled: works; a service that offers no tokens fails clearly', () =>
    withCloud(
      async (c) => {
        const env = { ALIBABA_CLOUD_IMDSV1_DISABLED: 'true' };
        assertCredentials(await c.request(`${PE_HOST}/ns/app`, { env }), c.e, { host: PE_HOST });
        c.e.imds.setMode('unsupported');
        const r = await c.request('registry.cn-shanghai.aliyuncs.com/ns/app', { env });
        assertOneLineFailure(r, /does not offer hardened mode.*IMDSv1 is disabled/);
        inTime(r);
      },
      { imdsMode: 'required' },
    ));

  it('metadata answering 429 on every call: one line within the deadline, throttling counted', () =>
    withCloud(async (c) => {
      c.e.imds.injectFault('/', { status: 429, times: Infinity });
      const r = await c.request(`${PE_HOST}/ns/app`, { args: ['--timeout', '6s'] });
      assertOneLineFailure(r, /metadata/);
      inTime(r);
      assert.ok(r.ms < 15_000, 'bounded by --timeout, not the kubelet');
      await recovers(c, `${PE_HOST}/ns/app`, PE_HOST);
    }));

  it('metadata slower than the deadline on the credentials call: one line at the deadline, then recovery', () =>
    withCloud(async (c) => {
      c.e.imds.injectFault('/latest/meta-data/ram/security-credentials/', { delayMs: 20_000, times: Infinity });
      const r = await c.request(`${PE_HOST}/ns/app`, { args: ['--timeout', '3s'] });
      assertOneLineFailure(r);
      assert.ok(r.ms < 10_000, `gave up at the deadline, took ${r.ms} ms`);
      await recovers(c, `${PE_HOST}/ns/app`, PE_HOST);
    }));
});

describe('CR API faults', { concurrency: true }, () => {
  it('IsSuccess:false with a business error code: one line, not retried forever', () =>
    withCloud(async (c) => {
      c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      c.e.cr.injectFault('GetAuthorizationToken', { isSuccessFalse: { code: 'INSTANCE_STATUS_INVALID', message: 'instance status invalid.' }, times: Infinity });
      const r = await c.request(`${EE}/ns/app`);
      assertOneLineFailure(r, /INSTANCE_STATUS_INVALID|status/i);
      inTime(r);
      assert.ok(eeTokenCalls(c.e) <= 5);
      await recovers(c, `${EE}/ns/app`, EE);
    }));

  it('IsSuccess:false throttling on every attempt: one line naming throttling, counted as throttled', () =>
    withCloud(async (c) => {
      c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      c.e.cr.injectFault('GetAuthorizationToken', { isSuccessFalse: { code: 'Throttling.User', message: 'Request was denied due to user flow control.' }, times: Infinity });
      const r = await c.request(`${EE}/ns/app`, { args: ['--timeout', '8s'] });
      assertOneLineFailure(r, /throttl|flow control/i);
      inTime(r);
      await recovers(c, `${EE}/ns/app`, EE);
      const m = spawnSync(providerCommand().file, [...providerCommand().prefix, 'metrics', '--config', c.configPath], { encoding: 'utf8' });
      assert.ok(sample(m.stdout, 'aliyun_acr_credential_provider_throttled_total{where="cloud-call"}') >= 2, m.stdout);
      assert.equal(sample(m.stdout, 'aliyun_acr_credential_provider_errors_total{class="throttled"}'), 1);
    }));

  it('malformed JSON on every attempt: one line, then recovery', () =>
    withCloud(async (c) => {
      c.e.cr.injectFault('/tokens', { malformedJson: true, times: Infinity });
      const r = await c.request(`${PE_HOST}/ns/app`, { args: ['--timeout', '8s'] });
      assertOneLineFailure(r);
      inTime(r);
      await recovers(c, `${PE_HOST}/ns/app`, PE_HOST);
    }));

  it('connection reset on every attempt: one line, then recovery', () =>
    withCloud(async (c) => {
      c.e.cr.injectFault('/tokens', { resetConnection: true, times: Infinity });
      const r = await c.request(`${PE_HOST}/ns/app`, { args: ['--timeout', '8s'] });
      assertOneLineFailure(r);
      inTime(r);
      await recovers(c, `${PE_HOST}/ns/app`, PE_HOST);
    }));

  it('5xx on ListInstance while resolving an instance: one line; the failure is not cached as "no such instance"', () =>
    withCloud(async (c) => {
      c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      c.e.cr.injectFault('ListInstance', { status: 500, times: Infinity });
      const r = await c.request(`${EE}/ns/app`, { args: ['--timeout', '6s'] });
      assertOneLineFailure(r);
      await recovers(c, `${EE}/ns/app`, EE);
    }));
});

describe('cache directory faults', { concurrency: true }, () => {
  it('cache directory missing (several levels): created 0700, credentials served, next call a hit', () =>
    withCloud(async (c) => {
      const deep = join(c.dir, 'a', 'b', 'cache');
      const args = ['--cache-dir', deep];
      assertCredentials(await c.request(`${PE_HOST}/ns/app`, { args }), c.e, { host: PE_HOST });
      assert.equal(statSync(deep).mode & 0o777, 0o700);
      c.e.resetCalls();
      assertCredentials(await c.request(`${PE_HOST}/ns/app`, { args }), c.e, { host: PE_HOST });
      assert.equal(c.e.calls().length, 0);
      assertCacheHealthy(deep);
    }));

  it('cache on a full filesystem (ENOSPC, a 64 KiB tmpfs): credentials served with a warning; fine once space is back', (t) =>
    withCloud(async (c) => {
      const mnt = join(c.dir, 'full');
      mkdirSync(mnt);
      const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', mnt]).status === 0;
      if (!mounted) {
        t.skip('cannot mount a tmpfs here (needs root)');
        return;
      }
      try {
        const cacheDir = join(mnt, 'cache');
        const args = ['--cache-dir', cacheDir];
        mkdirSync(cacheDir, { mode: 0o700 });
        // Fill every block: the token write (and the counters) hit ENOSPC.
        const filler = join(mnt, 'filler');
        try {
          writeFileSync(filler, Buffer.alloc(1024 * 1024));
        } catch (error) {
          assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
        }
        const r = await c.request(`${PE_HOST}/ns/app`, { args });
        assertCredentials(r, c.e, { host: PE_HOST, quiet: false });
        assert.match(r.stderr, /cannot write the token cache.*ENOSPC|continuing without caching/);
        inTime(r);
        assertNoStackTrace(r.stderr);
        rmSync(filler);
        // Whatever a failed write left behind must not be served or block the next call.
        const next = await c.request(`${PE_HOST}/ns/app`, { args });
        assertCredentials(next, c.e, { host: PE_HOST, quiet: false });
        c.e.resetCalls();
        assertCredentials(await c.request(`${PE_HOST}/ns/app`, { args }), c.e, { host: PE_HOST });
        assert.equal(c.e.calls().length, 0, 'a pure hit once space is back');
        assertCacheHealthy(cacheDir);
      } finally {
        spawnSync('umount', [mnt]);
      }
    }));

  it('a provider SIGKILLed mid-refresh (token call delayed) leaves a lock: the next one still answers in time', () =>
    withCloud(async (c) => {
      c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      c.e.cr.injectFault('GetAuthorizationToken', { delayMs: 30_000 });
      const { file, prefix } = providerCommand();
      const victim = spawn(file, [...prefix, '--config', c.configPath], { stdio: ['pipe', 'ignore', 'ignore'] });
      victim.stdin.end(kubeletRequest(`${EE}/ns/app`));
      const locks = join(c.cacheDir, 'locks');
      const until = Date.now() + 20_000;
      while (!(existsSync(locks) && readdirSync(locks).some((n) => n.endsWith('.claim'))) && Date.now() < until) await sleep(50);
      assert.ok(existsSync(locks) && readdirSync(locks).some((n) => n.endsWith('.claim')), 'the victim took the refresh lock');
      victim.kill('SIGKILL');
      await new Promise((resolve) => victim.once('exit', resolve));
      assert.ok(readdirSync(locks).some((n) => n.endsWith('.claim')), 'the lock outlives its killed holder');
      const r = await c.request(`${EE}/ns/app`);
      assertCredentials(r, c.e, { host: EE, quiet: false });
      inTime(r);
      assert.ok(r.ms < 30_000, `took over the stale lock quickly (${r.ms} ms)`);
      c.e.resetCalls();
      assertCredentials(await c.request(`${EE}/ns/app`), c.e, { host: EE });
      assert.equal(c.e.calls().length, 0, 'then a pure hit');
      for (const n of readdirSync(locks)) if (n.endsWith('.claim')) rmdirSync(join(locks, n), { recursive: true } as never);
      assertCacheHealthy(c.cacheDir);
    }));

  it('a cache file truncated mid-write by a crash, and one replaced by garbage: refetched, then hits', () =>
    withCloud(async (c) => {
      const logFile = join(c.dir, 'log', 'provider.log');
      const args = ['--log-file', logFile, '--log-level', 'debug'];
      assertCredentials(await c.request(`${PE_HOST}/ns/app`, { args }), c.e, { host: PE_HOST, quiet: false });
      const tokenFiles = readdirSync(c.cacheDir).filter((n) => n.includes('token'));
      assert.equal(tokenFiles.length, 1);
      const path = join(c.cacheDir, tokenFiles[0]!);
      writeFileSync(path, '{"value":{"value":{"username":"cr_temp_user","passw');
      assertCredentials(await c.request(`${PE_HOST}/ns/app`, { args }), c.e, { host: PE_HOST, quiet: false });
      writeFileSync(path, Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x0a]));
      assertCredentials(await c.request(`${PE_HOST}/ns/app`, { args }), c.e, { host: PE_HOST, quiet: false });
      assert.equal(personalTokenCalls(c.e), 3, 'each damaged file refetched once');
      c.e.resetCalls();
      assertCredentials(await c.request(`${PE_HOST}/ns/app`, { args: ['--log-file', logFile] }), c.e, { host: PE_HOST });
      assert.equal(c.e.calls().length, 0);
      assertCacheHealthy(c.cacheDir);
      await assertNoSecretsInObservability(c, logFile);
    }));
});

describe('load', () => {
  it('200 concurrent invocations across 5 registries: cold, one token call per registry; warm, none; counters add up', () =>
    withCloud(async (c) => {
      const regions = ['cn-hangzhou', 'cn-shanghai', 'cn-beijing', 'ap-southeast-1', 'cn-shanghai-finance-1'];
      const hosts = regions.map((region, i) => {
        c.e.state.addInstance({ regionId: region, instanceName: `load-${i}` });
        return eeHost(`load-${i}`, region);
      });
      const logFile = join(c.dir, 'log', 'provider.log');
      // 200 processes of ~0.2 s CPU each on a 2-core machine shared with other work: the default
      // 30 s deadline can run out while they queue for the CPU. The kubelet allows 60 s; use 55.
      const config = writeConfig(c.dir, c.e, { logFile, logLevel: 'info', logFormat: 'json', timeout: '55s' }, 'load.json');
      const images = Array.from({ length: 200 }, (_, i) => ({ host: hosts[i % 5]!, image: `${hosts[i % 5]}/ns/app-${i}` }));
      const phase = async () => Promise.all(images.map(({ image }) => c.request(image, { config })));

      const cold = await phase();
      cold.forEach((r, i) => {
        inTime(r);
        assertCredentials(r, c.e, { host: images[i]!.host, quiet: false, match: (t) => t.regionId === regions[i % 5] });
      });
      for (const region of regions) assert.equal(eeTokenCalls(c.e, region), 1, `one token call in ${region}`);
      const passwords = new Set(cold.map((r, i) => JSON.parse(r.stdout).auth[images[i]!.host].password as string));
      assert.equal(passwords.size, 5, 'one token per registry, shared by everyone');

      c.e.resetCalls();
      const warm = await phase();
      warm.forEach((r, i) => assertCredentials(r, c.e, { host: images[i]!.host, quiet: false, match: (t) => t.regionId === regions[i % 5] }));
      assert.equal(c.e.calls().length, 0, 'no cloud call at all on the warm run');

      // Counters: 400 invocations, 200 warm hits, 5 refreshes; the log file has 400 summary lines.
      const m = spawnSync(providerCommand().file, [...providerCommand().prefix, 'metrics', '--config', config], { encoding: 'utf8' });
      assert.equal(sample(m.stdout, 'aliyun_acr_credential_provider_invocations_total{result="success"}'), 400);
      assert.ok(sample(m.stdout, 'aliyun_acr_credential_provider_cache_hits_total') >= 200);
      assert.equal(sample(m.stdout, 'aliyun_acr_credential_provider_cache_misses_total{outcome="refreshed"}'), 5);
      const summaries = readdirSync(join(c.dir, 'log'))
        .flatMap((n) => (spawnSync('cat', [join(c.dir, 'log', n)], { encoding: 'utf8' }).stdout ?? '').split('\n'))
        .filter((l) => l.includes('"msg":"served"'));
      assert.equal(summaries.length, 400, 'one summary line per invocation in the log file');
      assertCacheHealthy(c.cacheDir);
      await assertNoSecretsInObservability(c, logFile);
    }));
});
