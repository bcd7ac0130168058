// Which registries a node keeps warm: the config's and those served lately, under the node's own
// identity and the exact cache key the kubelet path uses; never a pod's (ServiceAccount) token.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { checkCacheDir } from '../../../src/cache/cache-dir.ts';
import { openCacheStore, type CacheStore } from '../../../src/cache/store.ts';
import { resolveConfig } from '../../../src/config/resolve.ts';
import type { ConfigFile } from '../../../src/config/schema.ts';
import { nodeWarmSpecs, specFor } from '../../../src/prewarm/node-targets.ts';
import { newTokenEntry } from '../../../src/provider/token-entry.ts';

const H = 3600_000;
const NOW = 1_800_000_000_000;
const ENV = { PATH: '/usr/bin' };
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A fresh cache directory, opened as of a given time. */
function newCache(): (now: number) => CacheStore {
  const dir = mkdtempSync(join(tmpdir(), 'acr-targets-'));
  dirs.push(dir);
  const path = join(dir, 'cache');
  mkdirSync(path, { mode: 0o700 });
  const check = checkCacheDir(path);
  assert.ok(check.usable);
  return (now) => openCacheStore(check.dir, assert.fail, { now: () => now, sleep: async () => undefined });
}

const config = (file: ConfigFile) => resolveConfig(file, {}, ENV);
const PE = 'registry.cn-hangzhou.aliyuncs.com';
const EE = 'acme-registry.cn-hangzhou.cr.aliyuncs.com';

/** Caches a token for `host` as the kubelet path would, served `servedAgo` before NOW. */
async function served(cache: (now: number) => CacheStore, host: string, file: ConfigFile, servedAgo: number | undefined): Promise<string> {
  const spec = specFor(host, config(file), ENV, false);
  assert.ok(spec);
  await cache(NOW).set(spec.key, { ...newTokenEntry('u', 'p', NOW - H / 2, NOW + H / 2, 15 * 60_000), host }, H);
  if (servedAgo !== undefined) cache(NOW - servedAgo).markServed(spec.key);
  return spec.key;
}

describe('nodeWarmSpecs', () => {
  it('every configured registry, and every cached one served within servedWithin, keyed as the kubelet path keys them', async () => {
    const file: ConfigFile = { registries: [{ domains: ['registry.example.com'], instanceId: 'cri-1', regionId: 'cn-shanghai' }], prewarm: { servedWithin: '6h' } };
    const cache = newCache();
    const recent = await served(cache, PE, file, 5 * H);
    await served(cache, EE, file, 7 * H);
    const specs = await nodeWarmSpecs(config(file), cache(NOW), ENV, NOW);
    assert.deepEqual(specs.map((s) => [s.host, s.configured]), [['registry.example.com', true], [PE, false]]);
    assert.equal(specs[1]!.key, recent);
    assert.match(specs[0]!.key, /^token:.*:custom:cn-shanghai:cri-1$/);
  });

  it('a cached token never served by this version (no served marker) is not kept warm', async () => {
    const cache = newCache();
    await served(cache, PE, {}, undefined);
    assert.deepEqual(await nodeWarmSpecs(config({}), cache(NOW), ENV, NOW), []);
  });

  it('a token cached under another identity (an assumeRole entry added since) is not ours to refresh', async () => {
    const cache = newCache();
    await served(cache, EE, {}, 0);
    const now: ConfigFile = { registries: [{ domains: [EE], assumeRole: { roleArn: 'acs:ram::1234567890123456:role/puller' } }] };
    const specs = await nodeWarmSpecs(config(now), cache(NOW), ENV, NOW);
    assert.equal(specs.length, 1, 'the configured entry, under its own key');
    assert.match(specs[0]!.key, /-as-/);
  });
});

describe('specFor', () => {
  const file: ConfigFile = {
    serviceAccount: { oidcProviderArn: 'acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1' },
    registries: [
      { domains: ['pods.example.com'], instanceId: 'cri-2', identity: 'serviceAccount', roleName: 'puller', fallback: 'node' },
      { domains: ['files.example.com'], credentialFile: '/etc/acr/files.json' },
      { domains: ['scoped.example.com'], instanceId: 'cri-3', namespaces: ['team-a'] },
    ],
  };
  const cases: Array<[string, boolean]> = [
    ['pods.example.com', false], // a pod's ServiceAccount token: there is none without a pod
    ['files.example.com', false], // no cloud call at all
    ['scoped.example.com', true], // namespaces decide who is answered; the token is the node's
    ['crpi-abc123.cn-hangzhou.personal.cr.aliyuncs.com', false], // no token API
    ['docker.io', false],
    [PE, true],
  ];
  for (const [host, warm] of cases) {
    it(`${host}: ${warm ? 'kept warm' : 'not pre-warmed'}`, () => assert.equal(specFor(host, config(file), ENV, true) !== undefined, warm));
  }
});
