// Static stability: a refresh that fails (metadata down, CR API down, throttled) while the
// cached token is still valid, though inside the expiring threshold, serves that token with a
// short cacheDuration and a warning. A token too close to expiry, or expired, is never served.
// (blackbox/cache.test.ts covers the same with a RAM denial as the cause.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertCredentials, MIN } from '../helpers/assert-response.ts';
import { eeHost, withCloud, type Cloud } from '../helpers/cloud.ts';
import { assertOneLineFailure, parseGoDurationMs, type RunResult } from '../helpers/run-provider.ts';
import { assertCacheHealthy } from './helpers.ts';

const HOST = eeHost('acme');
const KUBELET_LIMIT_MS = 60_000;

/** A cached token whose refresh point passes 2 s after issue (30 min life, 29m58s threshold). */
async function cachedThenDue(c: Cloud, lifetimeMs = 30 * MIN, threshold = '29m58s'): Promise<string[]> {
  c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
  c.e.state.setTokenLifetime(lifetimeMs);
  const args = ['--expiring-threshold', threshold, '--timeout', '8s'];
  assert.equal((await c.request(`${HOST}/ns/app`, { args })).code, 0);
  await sleep(2500);
  return args;
}

function assertStale(c: Cloud, r: RunResult): void {
  const { token, cacheMs } = assertCredentials(r, c.e, { host: HOST, quiet: false, thresholdMs: 0 });
  assert.equal(c.e.state.issuedTokens().length, 1, 'the one cached token, no new one');
  assert.equal(token, c.e.state.issuedTokens()[0]);
  assert.ok(cacheMs <= 60_000, `short cacheDuration, got ${cacheMs}ms`);
  assert.match(r.stderr, /warn: token refresh failed \(.+\); serving the cached token, valid for another \d+s/);
  assert.ok(r.ms < KUBELET_LIMIT_MS);
}

describe('static stability', { concurrency: true }, () => {
  it('metadata service down (500 forever): the cached token is served with a warning', () =>
    withCloud(async (c) => {
      const args = await cachedThenDue(c);
      c.e.imds.injectFault('/', { status: 500, times: Infinity });
      assertStale(c, await c.request(`${HOST}/ns/app`, { args }));
    }));

  it('CR API down (503 forever): the cached token is served with a warning', () =>
    withCloud(async (c) => {
      const args = await cachedThenDue(c);
      c.e.cr.injectFault('*', { status: 503, times: Infinity });
      assertStale(c, await c.request(`${HOST}/ns/app`, { args }));
    }));

  it('CR API throttling every call: the cached token is served with a warning; recovery refreshes it', () =>
    withCloud(async (c) => {
      const args = await cachedThenDue(c);
      c.e.cr.injectFault('GetAuthorizationToken', { throttle: true, times: Infinity });
      assertStale(c, await c.request(`${HOST}/ns/app`, { args }));
      c.e.state.faults.clear();
      const next = assertCredentials(await c.request(`${HOST}/ns/app`, { args }), c.e, { host: HOST, thresholdMs: 0 });
      assert.equal(c.e.state.issuedTokens().length, 2, 'refreshed once the API recovers');
      assert.equal(next.token, c.e.state.issuedTokens()[1]);
      assertCacheHealthy(c.cacheDir);
    }));

  it('a token with less than a minute left is not served when the refresh fails', () =>
    withCloud(async (c) => {
      // 62 s of life, refresh point after 1 s: after 2.5 s it has under 60 s left.
      const args = await cachedThenDue(c, 62_000, '61s');
      c.e.cr.injectFault('*', { status: 503, times: Infinity });
      const r = await c.request(`${HOST}/ns/app`, { args });
      assertOneLineFailure(r, /503|unavailable|ServiceUnavailable|HTTP/i);
      assert.ok(r.ms < KUBELET_LIMIT_MS);
    }));

  it('an expired token is never served', () =>
    withCloud(async (c) => {
      const args = await cachedThenDue(c, 7000, '6s');
      await sleep(5500); // past the 7 s of life
      c.e.state.denyAction('role/acr-node-role', 'GetAuthorizationToken');
      const r = await c.request(`${HOST}/ns/app`, { args });
      assertOneLineFailure(r, /cr:GetAuthorizationToken/);
      c.e.state.allowAction('role/acr-node-role');
      const next = await c.request(`${HOST}/ns/app`, { args });
      const { cacheMs } = assertCredentials(next, c.e, { host: HOST, thresholdMs: 6000 });
      assert.ok(parseGoDurationMs(JSON.parse(next.stdout).cacheDuration) === cacheMs);
    }));
});
