// No secret ever reaches stderr: registry passwords, STS AccessKeySecret and SecurityToken, a
// static AccessKeySecret. Exercised at debug level through successes, retries, warnings and
// failures. (Every other suite checks its own invocations the same way on teardown: withCloud.)
// Also: get-credentials redacts the password unless --show-password.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertCredentials } from '../helpers/assert-response.ts';
import { assertNoSecretsIn, eeHost, NODE_IDENTITY, PE_HOST, secretsOf, withCloud } from '../helpers/cloud.ts';
import { assertNoStackTrace, invocations, stderrLines } from '../helpers/run-provider.ts';

const DEBUG = ['--log-level', 'debug'];

function overwriteCacheFiles(dir: string, content: string): number {
  let n = 0;
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const p = join(dir, name);
    if (statSync(p).isFile() && readFileSync(p, 'utf8').includes('password')) {
      writeFileSync(p, content);
      n++;
    }
  }
  return n;
}

describe('secrets never reach stderr', () => {
  it('debug-level runs through successes, retries, warnings and failures', () =>
    withCloud(async (c) => {
      const { e, request, cacheDir } = c;
      e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      e.state.addInstance({ regionId: 'cn-beijing', instanceName: 'north' });
      const ee = eeHost('acme');

      // Successes (miss, then hit), with retries on the way.
      e.cr.injectFault('GetAuthorizationToken', { status: 503 });
      e.cr.injectFault('GetAuthorizationToken', { throttle: true });
      e.cr.injectFault('ListInstance', { malformedJson: true });
      e.imds.injectFault('/latest/meta-data/ram/security-credentials/', { status: 500 });
      assertCredentials(await request(`${ee}/ns/app`, { args: DEBUG }), e, { host: ee, quiet: false });
      assertCredentials(await request(`${ee}/ns/app`, { args: DEBUG }), e, { host: ee, quiet: false });
      e.cr.injectFault('/tokens', { resetConnection: true });
      assertCredentials(await request(`${PE_HOST}/ns/app`, { args: DEBUG }), e, { host: PE_HOST, quiet: false });

      // A damaged cache file (warning), then a refresh.
      assert.ok(overwriteCacheFiles(cacheDir, '{"value":"{\\"value\\":{\\"username\\":1}}"}') >= 1);
      assertCredentials(await request(`${PE_HOST}/ns/app`, { args: DEBUG }), e, { host: PE_HOST, quiet: false });

      // A stale token served after a failed refresh (warning carrying the cause).
      e.state.setTokenLifetime(30 * 60_000);
      const stale = ['--expiring-threshold', '29m58s', ...DEBUG];
      const north = eeHost('north', 'cn-beijing');
      assertCredentials(await request(`${north}/ns/app`, { args: stale }), e, { host: north, quiet: false, thresholdMs: 0 });
      await sleep(2500);
      e.state.denyAction(NODE_IDENTITY, 'GetAuthorizationToken');
      const served = await request(`${north}/ns/app`, { args: stale });
      assertCredentials(served, e, { host: north, quiet: false, thresholdMs: 0 });
      assert.match(served.stderr, /serving the cached token/);

      // Failures: permission denied, persistent 5xx.
      const denied = await request(`${eeHost('acme', 'cn-hangzhou', true)}/other`, { args: [...DEBUG, '--cache-dir', join(c.dir, 'other-cache')] });
      assert.notEqual(denied.code, 0);
      e.state.allowAction(NODE_IDENTITY);
      e.cr.injectFault('/tokens', { status: 503, times: Infinity }, 'cn-shanghai');
      const failed = await request('registry.cn-shanghai.aliyuncs.com/ns/app', { args: DEBUG });
      assert.notEqual(failed.code, 0);

      const secrets = secretsOf(e);
      // Not vacuous: registry passwords and STS secrets were handed out, and debug logged plenty.
      assert.ok(e.state.issuedTokens().length >= 3);
      assert.ok(secrets.length >= e.state.issuedTokens().length + 2, `secrets collected: ${secrets.length}`);
      const lines = c.runs.flatMap((r) => stderrLines(r.stderr));
      assert.ok(lines.length >= 10, 'debug level logged');
      for (const r of c.runs) {
        assertNoStackTrace(r.stderr);
        assertNoSecretsIn(`stderr of ${r.args.join(' ')}`, r.stderr, secrets);
        if (r.code !== 0) assert.equal(r.stdout, '');
      }
    }));

  it('a static AccessKey with a wrong secret: the failure line holds neither secret', () =>
    withCloud(async (c) => {
      const { e, request } = c;
      const real = 'real-static-secret-abcdefghijkl';
      const wrong = 'wrong-static-secret-mnopqrstuvw';
      e.state.addAccessKey('LTAIsecretstest01', real, 'user/ci');
      c.extraSecrets.push(real, wrong);
      const r = await request(`${PE_HOST}/ns/app`, { args: DEBUG, env: { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIsecretstest01', ALIBABA_CLOUD_ACCESS_KEY_SECRET: wrong } });
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /credentials|Signature/i);
      assertNoSecretsIn('stderr', r.stderr, [real, wrong]);
      // And with the right secret and a session token in the environment.
      const sts = e.state.issueSts('role/ci-role');
      c.extraSecrets.push(sts.accessKeySecret, sts.securityToken);
      const ok = await request(`${PE_HOST}/ns/app`, {
        args: DEBUG,
        env: { ALIBABA_CLOUD_ACCESS_KEY_ID: sts.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: sts.accessKeySecret, ALIBABA_CLOUD_SECURITY_TOKEN: sts.securityToken },
      });
      const { token } = assertCredentials(ok, e, { host: PE_HOST, quiet: false });
      assert.equal(token.identity, 'role/ci-role');
      assertNoSecretsIn('stderr', ok.stderr, [sts.accessKeySecret, sts.securityToken, token.password]);
    }));

  it('every invocation of this file so far kept its stderr free of every password seen on stdout', () => {
    // Cross-check independent of the emulator: any password printed on stdout by any run must
    // not appear on the stderr of any run.
    const passwords = new Set<string>();
    for (const r of invocations) for (const m of r.stdout.matchAll(/"password":\s*"([^"]{8,})"/g)) if (m[1]) passwords.add(m[1]);
    assert.ok(passwords.size >= 3);
    for (const r of invocations) assertNoSecretsIn('stderr', r.stderr, [...passwords]);
  });
});

describe('get-credentials redacts the password', () => {
  it('redacted by default; shown with --show-password', () =>
    withCloud(async ({ e, run }) => {
      const image = `${PE_HOST}/ns/app:v1.2.3`;
      const r = await run({ args: ['get-credentials', image] });
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as { auth: Record<string, { username: string; password: string }>; apiVersion: string };
      const token = e.state.issuedTokens()[0];
      assert.ok(token);
      assert.ok(!r.stdout.includes(token.password), 'password must not be printed');
      assert.ok(!r.stderr.includes(token.password));
      assert.equal(doc.auth[PE_HOST]?.username, token.username);
      assert.match(doc.auth[PE_HOST]?.password ?? '', /redacted/i);

      const shown = await run({ args: ['get-credentials', image, '--show-password'] });
      assert.equal(shown.code, 0, shown.stderr);
      const doc2 = JSON.parse(shown.stdout) as { auth: Record<string, { username: string; password: string }> };
      const pw = doc2.auth[PE_HOST]?.password;
      assert.ok(pw && e.state.issuedTokens().some((t) => t.password === pw), 'the real issued password');
    }));
});
