// Credentials files for machines outside ECS: the SDKs' ini file (~/.alibabacloud/credentials)
// and the Alibaba Cloud CLI's config (~/.aliyun/config.json), read through @alicloud/credentials.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertCredentials } from '../helpers/assert-response.ts';
import { count, PE_HOST, withCloud } from '../helpers/cloud.ts';
import { assertOneLineFailure, writeConfig } from '../helpers/run-provider.ts';

const AK_ID = 'LTAI5tProfileKeyId0001';
const AK_SECRET = 'profile-secret-value-0123456789';

function iniFile(dir: string): string {
  const path = join(dir, 'credentials');
  writeFileSync(path, `[default]\ntype = access_key\naccess_key_id = LTAI-other\naccess_key_secret = other-secret-value-42\n\n[ci]\ntype = access_key\naccess_key_id = ${AK_ID}\naccess_key_secret = ${AK_SECRET}\n`);
  chmodSync(path, 0o600);
  return path;
}

describe('credentials: profile files', () => {
  it('an ini credentials file and profile from the config file', () =>
    withCloud(async (c) => {
      c.e.state.addAccessKey(AK_ID, AK_SECRET, 'user/ci');
      c.extraSecrets.push(AK_SECRET, 'other-secret-value-42');
      const config = writeConfig(c.dir, c.e, { credentials: { source: 'profile', file: iniFile(c.dir), profile: 'ci' } }, 'p.json');
      const { token } = assertCredentials(await c.request(`${PE_HOST}/ns/app`, { config }), c.e, { host: PE_HOST });
      assert.equal(token.identity, 'user/ci');
      assert.equal(count(c.e, { server: 'imds' }), 0, 'no metadata service outside ECS');
    }));

  it('ALIBABA_CLOUD_CREDENTIALS_FILE and ALIBABA_CLOUD_PROFILE select it without any config', () =>
    withCloud(async (c) => {
      c.e.state.addAccessKey(AK_ID, AK_SECRET, 'user/ci');
      c.extraSecrets.push(AK_SECRET);
      const r = await c.request(`${PE_HOST}/ns/app`, { env: { ALIBABA_CLOUD_CREDENTIALS_FILE: iniFile(c.dir), ALIBABA_CLOUD_PROFILE: 'ci' } });
      assert.equal(assertCredentials(r, c.e, { host: PE_HOST }).token.identity, 'user/ci');
    }));

  it('the Alibaba Cloud CLI config (<dir>/.aliyun/config.json), its current profile', () =>
    withCloud(async (c) => {
      c.e.state.addAccessKey(AK_ID, AK_SECRET, 'user/ci');
      c.extraSecrets.push(AK_SECRET);
      mkdirSync(join(c.dir, 'home', '.aliyun'), { recursive: true });
      const file = join(c.dir, 'home', '.aliyun', 'config.json');
      writeFileSync(file, JSON.stringify({ current: 'ci', profiles: [{ name: 'ci', mode: 'AK', access_key_id: AK_ID, access_key_secret: AK_SECRET, region_id: 'cn-hangzhou' }] }));
      chmodSync(file, 0o600);
      const config = writeConfig(c.dir, c.e, { credentials: { source: 'profile', file } }, 'p.json');
      assert.equal(assertCredentials(await c.request(`${PE_HOST}/ns/app`, { config }), c.e, { host: PE_HOST }).token.identity, 'user/ci');
    }));

  it('a missing profile is one clear line that quotes nothing from the file', () =>
    withCloud(async (c) => {
      c.extraSecrets.push(AK_SECRET, 'other-secret-value-42');
      const config = writeConfig(c.dir, c.e, { credentials: { source: 'profile', file: iniFile(c.dir), profile: 'nope' } }, 'p.json');
      const r = await c.request(`${PE_HOST}/ns/app`, { config });
      assertOneLineFailure(r, /cannot use profile "nope" of .*credentials: no such profile/);
    }));

  it('a broken CLI config is not quoted (it holds secrets)', () =>
    withCloud(async (c) => {
      mkdirSync(join(c.dir, '.aliyun'));
      const file = join(c.dir, '.aliyun', 'config.json');
      writeFileSync(file, `{"profiles": [{"access_key_secret": "${AK_SECRET}"`);
      c.extraSecrets.push(AK_SECRET);
      const config = writeConfig(c.dir, c.e, { credentials: { source: 'profile', file } }, 'p.json');
      assertOneLineFailure(await c.request(`${PE_HOST}/ns/app`, { config }), /not valid JSON/);
    }));
});
