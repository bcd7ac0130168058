// Issue 9, point 5: an absurd expiry cannot poison the cache. A registry token that claims to live
// for a thousand years (an environment AccessKey, so no STS session caps it) is cached for at most
// 24 hours, and an entry that was cached with such an expiry by an older version is refetched.
import assert from 'node:assert/strict';
import { lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertCredentials } from '../helpers/assert-response.ts';
import { count, PE_HOST, personalTokenCalls, type Cloud } from '../helpers/cloud.ts';
import { kubeletRequest, parseGoDurationMs } from '../helpers/run-provider.ts';
import { assertExitedInTime, runWithinBudget, TIMEOUT_S, withAttackedNode } from './helpers.ts';

const IMAGE = `${PE_HOST}/ns/app`;
const DAY_MS = 24 * 3600_000;
const THOUSAND_YEARS_MS = 1000 * 365 * DAY_MS;
const KEY_ID = 'LTAIsecuritytest01';
const KEY_SECRET = 'security-static-secret-0123456789';

function staticKey(c: Cloud): Record<string, string> {
  c.e.state.addAccessKey(KEY_ID, KEY_SECRET, 'user/ci');
  c.extraSecrets.push(KEY_SECRET);
  return { ALIBABA_CLOUD_ACCESS_KEY_ID: KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET: KEY_SECRET };
}

function run(c: Cloud, env: Record<string, string>) {
  return runWithinBudget({ args: ['--config', c.configPath, '--timeout', `${TIMEOUT_S}s`], stdin: kubeletRequest(IMAGE), env });
}

describe('token lifetimes are clamped before caching', () => {
  it('ExpireTime a thousand years away: cached for at most 24 h, and the next call is a hit', () =>
    withAttackedNode(async (c) => {
      const env = staticKey(c);
      c.e.state.setTokenLifetime(THOUSAND_YEARS_MS);
      const first = await run(c, env);
      assertExitedInTime(first, 'first call');
      const { token, cacheMs } = assertCredentials(first, c.e, { host: PE_HOST });
      assert.ok(cacheMs <= DAY_MS, `cacheDuration ${cacheMs} ms is more than 24 h`);
      c.e.resetCalls();
      const second = await run(c, env);
      assertExitedInTime(second, 'second call');
      assertCredentials(second, c.e, { host: PE_HOST, token });
      assert.equal(count(c.e), 0, 'a cache hit');
    }));

  it('an entry cached with a year-3000 expiry by an older version is ignored and refetched', () =>
    withAttackedNode(async (c) => {
      const env = staticKey(c);
      assertCredentials(await run(c, env), c.e, { host: PE_HOST });
      const name = readdirSync(c.cacheDir).find((n) => lstatSync(join(c.cacheDir, n)).isFile());
      assert.ok(name);
      const file = join(c.cacheDir, name);
      const doc = JSON.parse(readFileSync(file, 'utf8')) as { value: string; expire: number };
      const inner = JSON.parse(doc.value) as { value: { expiresAt: number; refreshAt: number }; expires: number };
      const year3000 = Date.UTC(3000, 0, 1);
      inner.value.expiresAt = year3000;
      inner.value.refreshAt = year3000 - 15 * 60_000;
      inner.expires = year3000;
      writeFileSync(file, JSON.stringify({ value: JSON.stringify(inner), expire: year3000 }));

      const r = await run(c, env);
      assertExitedInTime(r, 'poisoned entry');
      const { cacheMs } = assertCredentials(r, c.e, { host: PE_HOST, quiet: false });
      assert.equal(personalTokenCalls(c.e), 2, 'the poisoned entry was refetched');
      assert.ok(cacheMs <= DAY_MS);
      assert.ok(parseGoDurationMs(JSON.parse(r.stdout).cacheDuration as string) <= DAY_MS);
    }));
});
