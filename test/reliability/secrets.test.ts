// No secret (registry password, STS AccessKeySecret or SecurityToken, a static AccessKey
// secret) reaches stderr, the log file or the counters, in either log format, at debug level,
// across hits, misses, stale serving, failures, the metrics command and the doctor.
// (blackbox/secrets.test.ts checks stderr in text format; withCloud checks stderr of every run.)
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertCredentials } from '../helpers/assert-response.ts';
import { assertNoSecretsIn, eeHost, NODE_IDENTITY, PE_HOST, secretsOf, withCloud } from '../helpers/cloud.ts';
import { assertNoSecretsInObservability } from './helpers.ts';

describe('secrets stay out of logs and counters', { concurrency: true }, () => {
  for (const format of ['json', 'text'] as const) {
    it(`${format} logs at debug level, with a log file: every path of an invocation`, () =>
      withCloud(async (c) => {
        const logFile = join(c.dir, 'log', 'provider.log');
        const args = ['--log-level', 'debug', '--log-format', format, '--log-file', logFile];
        c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
        const ee = eeHost('acme');
        // Miss, hit, retries.
        assertCredentials(await c.request(`${PE_HOST}/ns/app`, { args }), c.e, { host: PE_HOST, quiet: false });
        assertCredentials(await c.request(`${PE_HOST}/ns/app`, { args }), c.e, { host: PE_HOST, quiet: false });
        c.e.cr.injectFault('GetAuthorizationToken', { throttle: true });
        assertCredentials(await c.request(`${ee}/ns/app`, { args }), c.e, { host: ee, quiet: false });
        // Stale serving after a failed refresh.
        c.e.state.setTokenLifetime(30 * 60_000);
        const stale = [...args, '--expiring-threshold', '29m58s'];
        const north = eeHost('north', 'cn-beijing');
        c.e.state.addInstance({ regionId: 'cn-beijing', instanceName: 'north' });
        assertCredentials(await c.request(`${north}/ns/app`, { args: stale }), c.e, { host: north, quiet: false, thresholdMs: 0 });
        await sleep(2500);
        c.e.state.denyAction(NODE_IDENTITY, 'GetAuthorizationToken');
        const served = await c.request(`${north}/ns/app`, { args: stale });
        assert.match(served.stderr, /serving the cached token/);
        // Failures.
        assert.notEqual((await c.request(`${ee}/other`, { args: [...args, '--cache-dir', join(c.dir, 'c2')] })).code, 0);
        c.e.state.allowAction(NODE_IDENTITY);
        // A static AccessKey from the environment.
        c.e.state.addAccessKey('LTAI5tFuzzKeyId000001', 'StaticSecretValueThatMustNeverAppear01', 'user/ci');
        c.extraSecrets.push('StaticSecretValueThatMustNeverAppear01');
        const env = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI5tFuzzKeyId000001', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'StaticSecretValueThatMustNeverAppear01' };
        assertCredentials(await c.request('registry.cn-shanghai.aliyuncs.com/ns/app', { args, env }), c.e, { host: 'registry.cn-shanghai.aliyuncs.com', quiet: false });
        // The doctor (prints to stdout) with a token obtained.
        const doctor = await c.run({ args: ['doctor', '--image', `${ee}/ns/app`, '--log-level', 'debug'] });
        assertNoSecretsIn('doctor stdout', doctor.stdout, secretsOf(c.e, c.extraSecrets));
        assert.ok(c.e.state.issuedTokens().length >= 5);
        await assertNoSecretsInObservability(c, logFile);
      }));
  }
});
