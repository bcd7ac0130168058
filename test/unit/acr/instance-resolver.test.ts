// Instance resolution against the CR emulator through the real CrOpenApiClient, with the real
// on-disk cache in a temp directory.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CrOpenApiClient } from '../../../src/acr/cr-openapi.ts';
import { toApiEndpoint } from '../../../src/acr/endpoints.ts';
import { MISSING_TTL_MS, RESOLUTION_TTL_MS, forgetResolution, resolveInstanceByDomain, resolveInstanceByName, type ResolverScope } from '../../../src/acr/instance-resolver.ts';
import { checkCacheDir } from '../../../src/cache/cache-dir.ts';
import { openCacheStore, type CacheStore } from '../../../src/cache/store.ts';
import { ProviderError } from '../../../src/errors.ts';
import { createCloudCredential } from '../../../src/identity/credentials.ts';
import { Deadline } from '../../../src/resilience/deadline.ts';
import { sharedEmulators } from '../../helpers/shared-emulators.ts';

const REGION = 'cn-beijing';
const KEY_ID = 'LTAI5tResolverKey0001';
const KEY_SECRET = 'resolver-secret-0123456789';

let target: string; // id of the instance named exactly "prod"
let prefixed: string; // id of "prod-backup", which the fuzzy InstanceName filter also matches
let domainInstance: string;
const root = mkdtempSync(join(tmpdir(), 'acr-resolver-'));
after(() => rmSync(root, { recursive: true, force: true }));
const e = sharedEmulators(
  { regions: [REGION, 'cn-hangzhou'] },
  {
    prepare(e) {
      e.state.addAccessKey(KEY_ID, KEY_SECRET, 'user/resolver');
      // 40 instances: two ListInstance pages of 30. The prefix-named one comes first, the wanted one
      // and the custom-domain one land on page two.
      prefixed = e.state.addInstance({ regionId: REGION, instanceName: 'prod-backup' }).instanceId;
      e.state.addInstance({ regionId: REGION, instanceName: 'xprod' });
      for (let i = 0; i < 33; i++) e.state.addInstance({ regionId: REGION, instanceName: `filler-${i}` });
      target = e.state.addInstance({ regionId: REGION, instanceName: 'prod' }).instanceId;
      domainInstance = e.state.addInstance({ regionId: REGION, instanceName: 'custom', userDomains: ['Images.Example.COM'] }).instanceId;
      for (let i = 0; i < 3; i++) e.state.addInstance({ regionId: REGION, instanceName: `tail-${i}` });
      // Same name in another region must not be picked up.
      e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'elsewhere' });
      assert.equal(e.state.instances(REGION).length, 40);
    },
  },
);

let n = 0;
function scope(withCache = true, identityId = 'ak-test'): ResolverScope & { ignored: string[] } {
  const ignored: string[] = [];
  let cache: CacheStore | undefined;
  if (withCache) {
    // As in production, the directory is prepared (0700) before the store is opened.
    const dir = join(root, `c${n++}`);
    mkdirSync(dir, { mode: 0o700 });
    const check = checkCacheDir(dir);
    assert.ok(check.usable);
    cache = openCacheStore(check.dir, (r) => ignored.push(r));
  }
  const api = new CrOpenApiClient({
    region: REGION,
    endpoint: toApiEndpoint(e.cr.endpoints()[REGION] ?? ''),
    credential: createCloudCredential({ kind: 'environment', accessKeyId: KEY_ID, accessKeySecret: KEY_SECRET }, () => assert.fail()).credential,
    identity: 'AccessKey LTAI5t… from the environment',
    deadline: new Deadline(30_000),
  });
  return { api, region: REGION, identityId, cache, identity: 'AccessKey LTAI5t… from the environment', ignored };
}

const calls = (action: string) => e.calls({ server: 'cr', action }).length;

async function notFound(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (error) {
    assert.ok(error instanceof ProviderError, String(error));
    assert.equal(error.errorClass, 'not-found');
    return error;
  }
  assert.fail('expected not-found');
}

describe('resolveInstanceByName', () => {
  it('pages through ListInstance and matches the name exactly (not the prefix-named instance)', async () => {
    const s = scope();
    assert.equal(await resolveInstanceByName(s, 'prod'), target);
    assert.notEqual(target, prefixed);
    assert.equal(calls('ListInstance'), 2, 'two pages of 30');
    assert.deepEqual(s.ignored, []);
  });

  it('finds the prefix-named instance by its own full name on page one', async () => {
    assert.equal(await resolveInstanceByName(scope(), 'prod-backup'), prefixed);
    assert.equal(calls('ListInstance'), 1, 'stops paging once found');
  });

  it('caches the result: a second resolution makes no call', async () => {
    const s = scope();
    assert.equal(await resolveInstanceByName(s, 'prod'), target);
    e.resetCalls();
    assert.equal(await resolveInstanceByName(s, 'prod'), target);
    assert.equal(e.calls({ server: 'cr' }).length, 0);
  });

  it('the cache is per identity', async () => {
    const s = scope();
    await resolveInstanceByName(s, 'prod');
    e.resetCalls();
    await resolveInstanceByName({ ...s, identityId: 'ecs-role-other' }, 'prod');
    assert.equal(calls('ListInstance'), 2);
  });

  it('a missing name: not-found after all pages, then negatively cached', async () => {
    const s = scope();
    const error = await notFound(resolveInstanceByName(s, 'pro'));
    assert.match(error.message, /no Container Registry Enterprise Edition instance named "pro" in cn-beijing is visible to AccessKey/);
    assert.equal(calls('ListInstance'), 2, 'looked at every page');
    e.resetCalls();
    await notFound(resolveInstanceByName(s, 'pro'));
    assert.equal(e.calls({ server: 'cr' }).length, 0, 'the miss is cached');
  });

  it('names are case-sensitive and exact', async () => {
    const s = scope();
    await notFound(resolveInstanceByName(s, 'PROD'));
    await notFound(resolveInstanceByName(s, 'prod '));
    await notFound(resolveInstanceByName(s, 'elsewhere')); // another region's instance
  });

  it('without a cache every resolution calls the API', async () => {
    const s = scope(false);
    assert.equal(await resolveInstanceByName(s, 'prod'), target);
    assert.equal(await resolveInstanceByName(s, 'prod'), target);
    assert.equal(calls('ListInstance'), 4);
  });

  it('forgetResolution drops a cached name', async () => {
    const s = scope();
    await resolveInstanceByName(s, 'prod');
    await forgetResolution(s, 'name', 'prod');
    e.resetCalls();
    assert.equal(await resolveInstanceByName(s, 'prod'), target);
    assert.equal(calls('ListInstance'), 2);
  });

  it('API errors propagate and nothing is cached', async () => {
    const s = scope();
    e.cr.injectFault('ListInstance', { status: 403, code: 'Forbidden.RAM' });
    const error = await (async () => {
      try {
        await resolveInstanceByName(s, 'prod');
      } catch (err) {
        return err as ProviderError;
      }
      assert.fail('expected an error');
    })();
    assert.equal(error.errorClass, 'permission');
    e.resetCalls();
    assert.equal(await resolveInstanceByName(s, 'prod'), target);
    assert.equal(calls('ListInstance'), 2);
  });

  it('TTLs: a day for resolutions, a minute for misses', () => {
    assert.equal(RESOLUTION_TTL_MS, 24 * 3600_000);
    assert.equal(MISSING_TTL_MS, 60_000);
  });
});

describe('resolveInstanceByDomain', () => {
  it('finds a custom domain through ListInstanceEndpoint, case-insensitively, and caches it', async () => {
    const s = scope();
    assert.equal(await resolveInstanceByDomain(s, 'images.example.com'), domainInstance);
    assert.ok(calls('ListInstanceEndpoint') > 1);
    assert.equal(calls('ListInstance'), 2);
    e.resetCalls();
    assert.equal(await resolveInstanceByDomain(s, 'IMAGES.example.com'), domainInstance);
    assert.equal(e.calls({ server: 'cr' }).length, 0);
  });

  it('finds an instance by its system domain', async () => {
    assert.equal(await resolveInstanceByDomain(scope(), `prod-registry-vpc.${REGION}.cr.aliyuncs.com`), target);
  });

  it('a domain nobody has: not-found, negatively cached', async () => {
    const s = scope();
    const error = await notFound(resolveInstanceByDomain(s, 'nobody.example.com'));
    assert.match(error.message, /has the domain nobody\.example\.com: add instanceId \(and regionId\)/);
    assert.equal(calls('ListInstanceEndpoint'), 40);
    e.resetCalls();
    await notFound(resolveInstanceByDomain(s, 'nobody.example.com'));
    assert.equal(e.calls({ server: 'cr' }).length, 0);
  });
});
