// The docker-credential-helpers protocol: as `docker-credential-aliyun-acr` (a symlink to the
// provider) and as the `docker-credential-helper` subcommand, sharing the kubelet path's cache.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eeHost, withCloud } from '../helpers/cloud.ts';
import type { RunResult } from '../helpers/run-provider.ts';
import { helperBin, runHelperByName } from './fixtures.ts';
import type { Cloud } from '../helpers/cloud.ts';

const HOST = eeHost('acme');
const NOT_FOUND = 'credentials not found in native keychain\n';

type Runner = (c: Cloud, args: string[], stdin?: string) => Promise<RunResult>;

const byName: Runner = async (c, args, stdin) => {
  const r = await runHelperByName(helperBin(`${c.dir}/${Math.random().toString(36).slice(2)}`), args, stdin, { ALIYUN_ACR_CREDENTIAL_PROVIDER_CONFIG: c.configPath });
  c.runs.push(r);
  return r;
};
const bySubcommand: Runner = (c, args, stdin) => c.run({ args: ['docker-credential-helper', ...args], ...(stdin !== undefined ? { stdin } : {}) });

for (const [how, run] of [['invoked as docker-credential-aliyun-acr', byName], ['the docker-credential-helper subcommand', bySubcommand]] as const) {
  describe(`docker credential helper: ${how}`, () => {
    it('get prints ServerURL, Username and Secret for an ACR host, and shares the cache', () =>
      withCloud(async (c) => {
        c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
        const r = await run(c, ['get'], `https://${HOST}\n`);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const doc = JSON.parse(r.stdout) as Record<string, string>;
        assert.deepEqual(Object.keys(doc), ['ServerURL', 'Username', 'Secret']);
        assert.equal(doc.ServerURL, `https://${HOST}`);
        const token = c.e.state.issuedTokens().find((t) => t.password === doc.Secret);
        assert.ok(token, 'the secret is a token the emulator issued');
        assert.equal(doc.Username, token.username);
        // The kubelet path now hits the same cache entry.
        const calls = c.e.calls().length;
        const k = await c.request(`${HOST}/ns/app`);
        assert.equal(JSON.parse(k.stdout).auth[HOST].password, doc.Secret);
        assert.equal(c.e.calls().length, calls);
      }));

    it('get for a host it does not serve answers the standard not-found line, exit 1', () =>
      withCloud(async (c) => {
        for (const server of ['https://index.docker.io/v1/', 'ghcr.io', 'registry.cn-hangzhou.aliyuncs.com.evil.com', '']) {
          const r = await run(c, ['get'], `${server}\n`);
          assert.equal(r.code, 1, server);
          assert.equal(r.stdout, NOT_FOUND, server);
        }
        assert.equal(c.e.calls().length, 0);
      }));

    it('list names configured domains and registries with a cached token', () =>
      withCloud(
        async (c) => {
          c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme', userDomains: ['images.acme.example'] });
          assert.equal((await run(c, ['get'], HOST)).code, 0);
          const r = await run(c, ['list']);
          assert.equal(r.code, 0, r.stdout + r.stderr);
          assert.deepEqual(JSON.parse(r.stdout), { 'images.acme.example': 'cr_temp_user', [HOST]: 'cr_temp_user' });
        },
        { config: { registries: [{ domains: ['images.acme.example'], regionId: 'cn-hangzhou' }] } },
      ));

    for (const action of ['store', 'erase']) {
      it(`${action} is refused politely: one line, exit 1`, () =>
        withCloud(async (c) => {
          const r = await run(c, [action], action === 'store' ? '{"ServerURL":"x","Username":"u","Secret":"s"}' : 'x');
          assert.equal(r.code, 1);
          assert.match(r.stdout, new RegExp(`^${action} is not supported: .*stores nothing.*\\n$`));
          assert.equal(r.stdout.split('\n').length, 2);
        }));
    }
  });
}
