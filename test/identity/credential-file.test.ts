// Personal Edition instances created since 2024-09-09 (crpi-*.personal.cr.aliyuncs.com) have no
// documented temporary-token API: a registries entry can serve them from a node-local,
// root-only credential file, re-read on every call.
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { withCloud } from '../helpers/cloud.ts';
import { assertOneLineFailure, assertSuccess, writeConfig } from '../helpers/run-provider.ts';

const HOST = 'crpi-abc123def.cn-hangzhou.personal.cr.aliyuncs.com';
const IMAGE = `${HOST}/team/app`;

function credentialFile(dir: string, password: string, mode = 0o600): string {
  const path = join(dir, 'crpi.json');
  writeFileSync(path, JSON.stringify({ username: 'dev@example', password }));
  chmodSync(path, mode);
  return path;
}

describe('credentialFile for crpi-* hosts', () => {
  it('serves the file\'s credentials, keyed by the host, without any cloud call', () =>
    withCloud(async (c) => {
      c.extraSecrets.push('file-password-one-0001');
      const file = credentialFile(c.dir, 'file-password-one-0001');
      const config = writeConfig(c.dir, c.e, { registries: [{ domains: [HOST], credentialFile: file }] }, 'f.json');
      const response = assertSuccess(await c.request(IMAGE, { config }));
      assert.deepEqual(response.auth, { [HOST]: { username: 'dev@example', password: 'file-password-one-0001' } });
      assert.equal(response.cacheKeyType, 'Registry');
      assert.equal(response.cacheDuration, '1m0s');
      assert.equal(c.e.calls().length, 0);
    }));

  it('picks up a changed file on the next call', () =>
    withCloud(async (c) => {
      c.extraSecrets.push('file-password-one-0001', 'file-password-two-0002');
      const file = credentialFile(c.dir, 'file-password-one-0001');
      const config = writeConfig(c.dir, c.e, { registries: [{ domains: [HOST], credentialFile: file }] }, 'f.json');
      assert.equal(assertSuccess(await c.request(IMAGE, { config })).auth?.[HOST]?.password, 'file-password-one-0001');
      credentialFile(c.dir, 'file-password-two-0002');
      assert.equal(assertSuccess(await c.request(IMAGE, { config })).auth?.[HOST]?.password, 'file-password-two-0002');
    }));

  it('refuses a file others can read, saying how to fix it', () =>
    withCloud(async (c) => {
      c.extraSecrets.push('file-password-one-0001');
      const file = credentialFile(c.dir, 'file-password-one-0001', 0o644);
      const config = writeConfig(c.dir, c.e, { registries: [{ domains: [HOST], credentialFile: file }] }, 'f.json');
      assertOneLineFailure(await c.request(IMAGE, { config }), /credential file .*crpi\.json is accessible to group or others \(mode 0644\): chmod 600/);
    }));

  it('refuses a malformed file without quoting it', () =>
    withCloud(async (c) => {
      const path = join(c.dir, 'crpi.json');
      writeFileSync(path, '{"username": "u", "password": "file-password-cut');
      chmodSync(path, 0o600);
      c.extraSecrets.push('file-password-cut');
      const config = writeConfig(c.dir, c.e, { registries: [{ domains: [HOST], credentialFile: path }] }, 'f.json');
      assertOneLineFailure(await c.request(IMAGE, { config }), /is not valid JSON: expected \{"username"/);
    }));

  it('without an entry, a crpi host is still refused with what to do', () =>
    withCloud(async (c) => {
      assertOneLineFailure(await c.request(IMAGE), /crpi-abc123def.*credentialFile/);
      assert.equal(c.e.calls().length, 0);
    }));
});
