// The metadata token PUT failing (timeout or 5xx) is not "no token API": the provider does not
// quietly fall back to the tokenless protocol (the Alibaba SDKs do, on any failure), and says how
// to allow it; metadata.allowV1OnTokenFailure allows it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertCredentials } from '../helpers/assert-response.ts';
import { PE_HOST, withCloud } from '../helpers/cloud.ts';
import { assertOneLineFailure } from '../helpers/run-provider.ts';

const TOKEN_PATH = '/latest/api/token';

describe('metadata token API failures', () => {
  it('a token API answering 503: one line that says what failed and how to allow the fallback; no tokenless request', () =>
    withCloud(async (c) => {
      c.e.imds.injectFault(TOKEN_PATH, { status: 503, times: Infinity });
      const r = await c.request(`${PE_HOST}/ns/app`, { args: ['--timeout', '3s'] });
      assertOneLineFailure(r, /metadata token API \(PUT .*\/latest\/api\/token\) failed \(HTTP 503\).*metadata\.allowV1OnTokenFailure: true/);
      assert.equal(c.e.calls({ server: 'imds' }).filter((x) => x.method === 'GET').length, 0);
    }));

  it('metadata.allowV1OnTokenFailure: the same failure falls back to the tokenless protocol', () =>
    withCloud(
      async (c) => {
        c.e.imds.injectFault(TOKEN_PATH, { status: 503, times: Infinity });
        assertCredentials(await c.request(`${PE_HOST}/ns/app`), c.e, { host: PE_HOST });
        assert.ok(c.e.calls({ server: 'imds' }).some((x) => x.method === 'GET' && x.status === 200));
      },
      { config: { metadata: { allowV1OnTokenFailure: true } } },
    ));

  it('allowV1OnTokenFailure with IMDSv1 disabled is a contradiction: one line naming both', () =>
    withCloud(
      async (c) => {
        assertOneLineFailure(await c.request(`${PE_HOST}/ns/app`), /allowV1OnTokenFailure.*disableIMDSv1|disableIMDSv1.*allowV1OnTokenFailure/);
      },
      { config: { metadata: { allowV1OnTokenFailure: true, disableIMDSv1: true } } },
    ));
});
