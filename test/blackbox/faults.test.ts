// The cloud misbehaving: transient faults are retried (a bounded number of times), permanent ones
// fail fast with one line that says what to do, and nothing outlives the kubelet's 60 s.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { assertCredentials } from '../helpers/assert-response.ts';
import { count, eeHost, eeTokenCalls, NODE_IDENTITY, PE_HOST, personalTokenCalls, withCloud } from '../helpers/cloud.ts';
import { assertNoStackTrace, assertOneLineFailure, stderrLines, writeConfig } from '../helpers/run-provider.ts';

const KUBELET_KILL_MS = 60_000;
const ROLE_LIST = '/latest/meta-data/ram/security-credentials/';

/** A TCP port on 127.0.0.1 with nothing listening. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('transient faults are retried', () => {
  it('CR 503 twice, then success', () =>
    withCloud(async ({ e, request }) => {
      e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      e.cr.injectFault('GetAuthorizationToken', { status: 503, times: 2 });
      const host = eeHost('acme');
      assertCredentials(await request(`${host}/ns/app`), e, { host, quiet: false });
      assert.equal(eeTokenCalls(e), 3);
      assert.equal(e.calls({ action: 'GetAuthorizationToken' }).filter((c) => c.faulted).length, 2);
      assert.equal(e.state.faults.pending(), 0);
    }));

  it('Throttling.User twice, then success', () =>
    withCloud(async ({ e, request }) => {
      e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      e.cr.injectFault('GetAuthorizationToken', { throttle: true, times: 2 });
      const host = eeHost('acme');
      assertCredentials(await request(`${host}/ns/app`), e, { host, quiet: false });
      const calls = e.calls({ action: 'GetAuthorizationToken' });
      assert.equal(calls.length, 3);
      assert.deepEqual(
        calls.map((c) => c.code ?? 'ok'),
        ['Throttling.User', 'Throttling.User', 'ok'],
      );
    }));

  it('Personal Edition /tokens: 500 and a reset connection, then success', () =>
    withCloud(async ({ e, request }) => {
      e.cr.injectFault('/tokens', { status: 500 });
      e.cr.injectFault('/tokens', { resetConnection: true });
      assertCredentials(await request(`${PE_HOST}/ns/app`), e, { host: PE_HOST, quiet: false });
      assert.equal(personalTokenCalls(e), 3);
    }));

  it('ListInstance answering truncated JSON once, then success', () =>
    withCloud(async ({ e, request }) => {
      e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      e.cr.injectFault('ListInstance', { malformedJson: true });
      const host = eeHost('acme');
      const r = await request(`${host}/ns/app`);
      assertCredentials(r, e, { host, quiet: false });
      assert.equal(count(e, { server: 'cr', action: 'ListInstance' }), 2);
      assert.equal(eeTokenCalls(e), 1);
    }));

  it('IMDS 500 once, then success', () =>
    withCloud(async ({ e, request }) => {
      e.imds.injectFault(ROLE_LIST, { status: 500 });
      assertCredentials(await request(`${PE_HOST}/ns/app`), e, { host: PE_HOST, quiet: false });
      const roleListCalls = e.calls({ server: 'imds' }).filter((c) => c.path === ROLE_LIST);
      assert.deepEqual(
        roleListCalls.map((c) => c.status),
        [500, 200],
      );
      assert.equal(personalTokenCalls(e), 1);
    }));

  it('IMDS throttling (429) on the session token once, then success', () =>
    withCloud(async ({ e, request }) => {
      e.imds.injectFault('/latest/api/token', { throttle: true });
      assertCredentials(await request(`${PE_HOST}/ns/app`), e, { host: PE_HOST, quiet: false });
      assert.deepEqual(
        e.calls({ server: 'imds' })
          .filter((c) => c.path === '/latest/api/token')
          .map((c) => c.status),
        [429, 200],
      );
    }));
});

describe('persistent faults fail with one line', { concurrency: true }, () => {
  it('CR 503 on every attempt: a bounded number of attempts, then one line', () =>
    withCloud(async ({ e, request }) => {
      e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      e.cr.injectFault('GetAuthorizationToken', { status: 503, times: Infinity });
      const r = await request(`${eeHost('acme')}/ns/app`);
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout, '');
      assertNoStackTrace(r.stderr);
      const lines = stderrLines(r.stderr);
      const last = lines[lines.length - 1] ?? '';
      assert.match(last, /error: .*GetAuthorizationToken/);
      assert.ok(lines.slice(0, -1).every((l) => / warn: .*retrying/.test(l)), `only retry warnings before the error: ${r.stderr}`);
      const attempts = eeTokenCalls(e);
      assert.ok(attempts >= 2 && attempts <= 10, `bounded retries, got ${attempts}`);
      assert.ok(r.ms < KUBELET_KILL_MS);
    }));

  it('permission denied on GetAuthorizationToken: one line naming cr:GetAuthorizationToken, no retry', () =>
    withCloud(async ({ e, request }) => {
      e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      e.state.denyAction(NODE_IDENTITY, 'GetAuthorizationToken');
      const r = await request(`${eeHost('acme')}/ns/app`);
      assertOneLineFailure(r, /cr:GetAuthorizationToken/);
      assert.equal(eeTokenCalls(e), 1, 'a denial is not retried');
      assert.equal(e.calls({ action: 'GetAuthorizationToken' })[0]?.code, 'Forbidden.RAM');
    }));

  it('permission denied on the Personal Edition token API: one line, no retry', () =>
    withCloud(async ({ e, request }) => {
      e.state.denyAction(NODE_IDENTITY, 'GetAuthorizationToken');
      const r = await request(`${PE_HOST}/ns/app`);
      assertOneLineFailure(r, /cr:GetAuthorizationToken/);
      assert.equal(personalTokenCalls(e), 1);
    }));

  it('permission denied on ListInstance: one line naming cr:ListInstance, no retry', () =>
    withCloud(async ({ e, request }) => {
      e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      e.state.denyAction(NODE_IDENTITY, 'ListInstance');
      const r = await request(`${eeHost('acme')}/ns/app`);
      assertOneLineFailure(r, /cr:ListInstance/);
      assert.equal(count(e, { server: 'cr', action: 'ListInstance' }), 1);
      assert.equal(eeTokenCalls(e), 0);
    }));

  it('the instance is not running: one line, no token', () =>
    withCloud(async ({ e, request }) => {
      e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme', status: 'STOPPED' });
      const r = await request(`${eeHost('acme')}/ns/app`);
      assertOneLineFailure(r, /INSTANCE_STATUS_INVALID|STOPPED/);
      assert.equal(e.state.issuedTokens().length, 0);
    }));

  it('unreachable metadata service: fails with a clear final line, well within 60 s', () =>
    withCloud(async ({ e, dir, request }) => {
      const port = await closedPort();
      const config = writeConfig(dir, e, { metadata: { endpoint: `http://127.0.0.1:${port}` } }, 'dead-imds.json');
      const r = await request(`${PE_HOST}/ns/app`, { config });
      assert.notEqual(r.code, null, 'the provider ended by itself');
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout, '');
      assertNoStackTrace(r.stderr);
      const lines = stderrLines(r.stderr);
      assert.match(lines.at(-1) ?? '', /error: cannot reach the ECS metadata service/);
      assert.ok(lines.slice(0, -1).every((l) => / warn: .*retrying$/.test(l)), r.stderr);
      assert.ok(r.ms < KUBELET_KILL_MS, `took ${r.ms}ms`);
      assert.equal(count(e, { server: 'cr' }), 0);
    }));

  // BUG (see report): the CR client's retry loop re-runs the credential provider, whose metadata
  // client has its own retry loop: 5 x 5 = 25 attempts and 24 warning lines before the error.
  it('unreachable metadata service: exactly one stderr line', () =>
    withCloud(async ({ e, dir, request }) => {
      const port = await closedPort();
      const config = writeConfig(dir, e, { metadata: { endpoint: `http://127.0.0.1:${port}` } }, 'dead-imds.json');
      const r = await request(`${PE_HOST}/ns/app`, { config });
      assertOneLineFailure(r, /cannot reach the ECS metadata service/);
    }));

  it('metadata answering 500 forever: one bounded retry loop (at most 5 requests)', () =>
    withCloud(async ({ e, request }) => {
      e.imds.injectFault('*', { status: 500, times: Infinity });
      const r = await request(`${PE_HOST}/ns/app`);
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout, '');
      const attempts = count(e, { server: 'imds' });
      assert.ok(attempts >= 2 && attempts <= 5, `metadata requests: ${attempts}`);
    }));

  it('no RAM role attached: one line saying so, no retry storm', () =>
    withCloud(async ({ e, request }) => {
      e.imds.setRole(null);
      const r = await request(`${PE_HOST}/ns/app`);
      assertOneLineFailure(r, /no RAM role is attached/);
      assert.ok(r.ms < KUBELET_KILL_MS);
      assert.equal(e.calls({ server: 'imds' }).filter((c) => c.path === ROLE_LIST).length, 1);
      assert.equal(count(e, { server: 'cr' }), 0);
    }));

  it('a configured role that is not attached: one line naming it', () =>
    withCloud(async ({ e, request }) => {
      const r = await request(`${PE_HOST}/ns/app`, { env: { ALIBABA_CLOUD_ECS_METADATA: 'some-other-role' } });
      assertOneLineFailure(r, /some-other-role/);
      assert.equal(count(e, { server: 'cr' }), 0);
    }));
});

describe('the overall deadline', { concurrency: true }, () => {
  it('a CR API that never answers in time: failure before the --timeout, far before the kubelet kills us', () =>
    withCloud(async ({ e, request }) => {
      e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      e.cr.injectFault('GetAuthorizationToken', { delayMs: 30_000, times: Infinity });
      const r = await request(`${eeHost('acme')}/ns/app`, { args: ['--timeout', '3s'] });
      assert.notEqual(r.code, null, 'the provider ended by itself');
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout, '');
      assertNoStackTrace(r.stderr);
      assert.match(stderrLines(r.stderr).at(-1) ?? '', /error: /);
      assert.ok(r.ms < KUBELET_KILL_MS, `took ${r.ms}ms`);
    }));

  it('a metadata service that hangs: failure at the deadline, not a hang', () =>
    withCloud(async ({ e, request }) => {
      e.imds.injectFault('*', { delayMs: 30_000, times: Infinity });
      const r = await request(`${PE_HOST}/ns/app`, { args: ['--timeout', '4s'] });
      assert.notEqual(r.code, null);
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout, '');
      assertNoStackTrace(r.stderr);
      assert.ok(r.ms < KUBELET_KILL_MS, `took ${r.ms}ms`);
    }));
});
