// The `prewarm` command of the built bundle, as the DaemonSet runs it: a process against the
// emulators that fills the cache the kubelet path reads, says what it does on stderr, obeys the
// config's off switch, and stops at SIGTERM.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertCredentials } from '../helpers/assert-response.ts';
import { assertNoSecretsIn, eeHost, secretsOf, withCloud, type Cloud } from '../helpers/cloud.ts';
import { assertNoStackTrace, providerCommand, writeConfig } from '../helpers/run-provider.ts';

const EE = eeHost('acme');

const SETPRIV = spawnSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' }).stdout.trim();
const noSetpriv = process.getuid?.() !== 0 ? 'needs root' : SETPRIV === '' ? 'no setpriv' : undefined;
/** uid 0 with every capability set emptied: the DaemonSet's drop: [ALL]. */
const NO_CAPABILITIES = [SETPRIV, '--bounding-set=-all', '--inh-caps=-all', '--ambient-caps=-all', '--no-new-privs'];

function startPrewarm(c: Cloud, config: string, wrapper: string[] = []) {
  const { file, prefix } = providerCommand();
  const [command, ...args] = [...wrapper, file, ...prefix, 'prewarm', '--config', config, '--node-name', 'node-a'];
  const child = spawn(command!, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    exited,
    output: () => ({ stderr, stdout }),
    async waitFor(pattern: RegExp, ms = 20_000) {
      const until = Date.now() + ms;
      while (!pattern.test(stderr) && Date.now() < until) await sleep(50);
      assert.match(stderr, pattern);
    },
  };
}

describe('the prewarm command', { concurrency: true }, () => {
  it('fills the shared cache for the configured registries: the first kubelet call is a hit; SIGTERM stops it at once', () =>
    withCloud(async (c) => {
      c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      const config = writeConfig(c.dir, c.e, { registries: [{ domains: [EE] }] }, 'prewarm.json');
      // What the kubelet makes of a hostPath volume of type DirectoryOrCreate.
      mkdirSync(c.cacheDir, { mode: 0o755 });
      chmodSync(c.cacheDir, 0o755);
      const p = startPrewarm(c, config);
      try {
        await p.waitFor(/info: prewarmed host=acme-registry\.cn-hangzhou\.cr\.aliyuncs\.com /);
        assert.equal(statSync(c.cacheDir).mode & 0o777, 0o700, 'the 0755 volume was made 0700');
        c.e.resetCalls();
        const r = await c.request(`${EE}/team/app`, { config, args: ['--log-level', 'info'] });
        assertCredentials(r, c.e, { host: EE, quiet: false });
        assert.match(r.stderr, /cache=hit/);
        assert.equal(c.e.calls().length, 0, 'the kubelet call made no cloud call');
      } finally {
        const stopping = Date.now();
        p.child.kill('SIGTERM');
        const { code } = await p.exited;
        assert.equal(code, 0);
        assert.ok(Date.now() - stopping < 5000, 'stopped promptly');
      }
      const { stderr, stdout } = p.output();
      assert.equal(stdout, '');
      assert.match(stderr, /info: cache directory .* had mode 755 \(ours, writable by nobody else\): made it 700/);
      assert.match(stderr, /info: keeping 1 registry warm \(1 from the config, 0 served within 24h\): acme-registry\.cn-hangzhou\.cr\.aliyuncs\.com/);
      assert.match(stderr, /info: stopped$/m);
      assertNoStackTrace(stderr);
      assertNoSecretsIn('prewarm stderr', stderr, secretsOf(c.e));
      // Counted: one successful pre-warm refresh in the cache's counters.
      const m = await c.run({ args: ['metrics', '--config', config] });
      assert.match(m.stdout, /^aliyun_acr_credential_provider_prewarm_refreshes_total\{result="success"\} 1$/m);
    }));

  it('root without any capability (as the DaemonSet runs it) keeps its own 0700 cache warm; a 0500 one it cannot write (control: the capabilities are gone)', { skip: noSetpriv }, () =>
    withCloud(async (c) => {
      c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      const config = writeConfig(c.dir, c.e, { registries: [{ domains: [EE] }] }, 'prewarm.json');
      chmodSync(c.dir, 0o755);
      const p = startPrewarm(c, config, NO_CAPABILITIES);
      try {
        await p.waitFor(/info: prewarmed host=acme-registry/);
      } finally {
        p.child.kill('SIGTERM');
        assert.equal((await p.exited).code, 0);
      }
      assert.equal(statSync(c.cacheDir).uid, 0);
      // The same process with the directory made read-only for its owner: with CAP_DAC_OVERRIDE
      // root would write anyway; without it the refresh fails and says why.
      rmSync(c.cacheDir, { recursive: true });
      mkdirSync(c.cacheDir, { mode: 0o500 });
      chmodSync(c.cacheDir, 0o500);
      const denied = startPrewarm(c, config, NO_CAPABILITIES);
      try {
        await denied.waitFor(/warn: pre-warm of acme-registry\.cn-hangzhou\.cr\.aliyuncs\.com failed \(cannot write the token cache \(EACCES\); continuing without caching\)/);
      } finally {
        denied.child.kill('SIGTERM');
        await denied.exited;
      }
    }));

  it('prewarm.enabled: false: says so once and writes nothing, but still makes the 0755 cache volume the provider\'s (0700)', () =>
    withCloud(async (c) => {
      const config = writeConfig(c.dir, c.e, { registries: [{ domains: [EE] }], prewarm: { enabled: false } }, 'off.json');
      mkdirSync(c.cacheDir, { mode: 0o755 });
      chmodSync(c.cacheDir, 0o755);
      const p = startPrewarm(c, config);
      try {
        await p.waitFor(/info: pre-warm is off in the config \(prewarm\.enabled: false\)/);
        await sleep(500);
      } finally {
        p.child.kill('SIGTERM');
        await p.exited;
      }
      assert.equal(c.e.calls().length, 0, 'no cloud call');
      assert.deepEqual(readdirSync(c.cacheDir), [], 'nothing written');
      assert.equal(statSync(c.cacheDir).mode & 0o777, 0o700);
      assert.equal(p.output().stderr.match(/pre-warm is off/g)?.length, 1);
    }));

  it('a config that does not load: one line, no stack trace, and it keeps trying', () =>
    withCloud(async (c) => {
      const p = startPrewarm(c, join(c.dir, 'missing.json'));
      try {
        await p.waitFor(/error: cannot read config file .*missing\.json: no such file; not pre-warming until it loads/);
      } finally {
        p.child.kill('SIGTERM');
        assert.equal((await p.exited).code, 0);
      }
      assertNoStackTrace(p.output().stderr);
    }));
});
