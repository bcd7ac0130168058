// Kubelet mode in process, with its streams injected (no child process): the response on the
// given stdout, one line on the given stderr for bad input, and the cache shared with the next call.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { runKubeletMode } from '../../../src/cli/kubelet-mode.ts';
import { streamReader } from '../../../src/cli/stdin.ts';
import { assertCredentials } from '../../helpers/assert-response.ts';
import { PE_HOST, personalTokenCalls, withCloud } from '../../helpers/cloud.ts';
import { runInProcess } from '../../helpers/in-process.ts';
import { assertNoStackTrace, stderrLines } from '../../helpers/run-provider.ts';

describe('runKubeletMode with injected streams', () => {
  it('answers a request read from a stream, then the same registry from the cache', () =>
    withCloud(async (c) => {
      const args = ['--config', c.configPath];
      const first = await runInProcess({ args, image: `${PE_HOST}/ns/app` });
      assertCredentials(first, c.e, { host: PE_HOST });
      c.e.resetCalls();
      const second = await runInProcess({ args, image: `${PE_HOST}/ns/other` });
      const { token } = assertCredentials(second, c.e, { host: PE_HOST });
      assert.equal(c.e.calls().length, 0, 'a hit: no cloud call');
      assert.equal(personalTokenCalls(c.e), 0);
      assert.equal(JSON.parse(first.stdout).auth[PE_HOST].password, token.password);
    }));

  it('bad input: exit 2, one line on the injected stderr, nothing on stdout', () =>
    withCloud(async (c) => {
      const r = await runInProcess({ args: ['--config', c.configPath], stdin: '{"kind":"CredentialProviderRequest"' });
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assert.equal(stderrLines(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr, /^aliyun-acr-credential-provider: error: /);
      assertNoStackTrace(r.stderr);
    }));

  it('a stream that is never closed: one line at the deadline, nothing on stdout', async () => {
    const open = new PassThrough();
    open.write('{"kind":');
    let stdout = '';
    const stderr: string[] = [];
    const code = await runKubeletMode({ timeout: '1s', cacheDir: '/nonexistent/acr-test' }, { stdin: streamReader(open), stdout: async (t) => void (stdout += t), stderr: (l) => void stderr.push(l) });
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.equal(stderr.length, 1);
    assert.match(stderr[0] ?? '', /no complete request on stdin within the 1s deadline/);
  });
});
