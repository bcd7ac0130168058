// MetadataClient against the IMDS emulator: real HTTP on 127.0.0.1.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { ProviderError } from '../../../src/errors.ts';
import { MetadataClient } from '../../../src/identity/imds-client.ts';
import { Deadline } from '../../../src/resilience/deadline.ts';
import { roleIdentity, type Emulators } from '../../emulators/index.ts';
import { sharedEmulators } from '../../helpers/shared-emulators.ts';
import { providerError } from '../../helpers/provider-error.ts';

const TOKEN_PATH = '/latest/api/token';
const ROLE_PATH = '/latest/meta-data/ram/security-credentials/';
const CREDS_PATH = `${ROLE_PATH}acr-node-role`;

const e = sharedEmulators(
  { nodeRegion: 'cn-shanghai' },
  {
    reset(e) {
      e.imds.setMode('optional');
      e.imds.setRole('acr-node-role');
    },
  },
);

function client(options: { disableIMDSv1?: boolean; allowV1OnTokenFailure?: boolean; endpoint?: string; budgetMs?: number } = {}) {
  const retries: string[] = [];
  const c = new MetadataClient({
    endpoint: options.endpoint ?? e.imds.url,
    disableIMDSv1: options.disableIMDSv1 ?? false,
    allowV1OnTokenFailure: options.allowV1OnTokenFailure ?? false,
    deadline: new Deadline(options.budgetMs ?? 20_000),
    onRetry: (m) => retries.push(m),
  });
  return { c, retries };
}

const imdsCalls = () => e.calls({ server: 'imds' }).map((c) => `${c.method} ${c.path} ${c.status}`);


/** A 127.0.0.1 port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('MetadataClient: modes', () => {
  it('uses hardened mode when offered: one PUT for a token, then GETs that carry it', async () => {
    const { c } = client();
    assert.equal(await c.roleName(), 'acr-node-role');
    assert.equal(c.mode, 'hardened');
    assert.equal(await c.regionId(), 'cn-shanghai');
    assert.deepEqual(imdsCalls(), [`PUT ${TOKEN_PATH} 200`, `GET ${ROLE_PATH} 200`, 'GET /latest/meta-data/region-id 200']);
    // The token travels with each GET: once the service insists on it, calls still work.
    e.imds.setMode('required');
    const creds = await c.roleCredentials('acr-node-role');
    assert.ok(creds.accessKeyId.startsWith('STS.'));
    assert.equal(e.calls({ server: 'imds', action: TOKEN_PATH }).length, 1, 'the session token is reused');
  });

  it("'required' mode works", async () => {
    e.imds.setMode('required');
    const { c } = client({ disableIMDSv1: true });
    assert.equal(await c.roleName(), 'acr-node-role');
    assert.equal(c.mode, 'hardened');
    assert.ok(!imdsCalls().some((x) => x.endsWith(' 403')), imdsCalls().join(', '));
  });

  it("falls back to v1 when the service has no token API ('unsupported')", async () => {
    e.imds.setMode('unsupported');
    const { c } = client();
    assert.equal(await c.roleName(), 'acr-node-role');
    assert.equal(c.mode, 'v1');
    await c.regionId();
    assert.deepEqual(imdsCalls(), [`PUT ${TOKEN_PATH} 404`, `GET ${ROLE_PATH} 200`, 'GET /latest/meta-data/region-id 200'], 'no further PUT in v1 mode');
  });

  it('refuses v1 when IMDSv1 is disabled', async () => {
    e.imds.setMode('unsupported');
    const { c } = client({ disableIMDSv1: true });
    const error = await providerError(c.roleName());
    assert.equal(error.errorClass, 'metadata');
    assert.equal(error.retryable, false);
    assert.match(error.message, /does not offer hardened mode \(HTTP 404\) and IMDSv1 is disabled/);
    assert.ok(error.message.includes(e.imds.url));
    assert.deepEqual(imdsCalls(), [`PUT ${TOKEN_PATH} 404`], 'no tokenless GET was sent');
  });

  it('a rejected session token is replaced on the next attempt', async () => {
    const { c, retries } = client();
    await c.roleName();
    e.imds.injectFault(ROLE_PATH, { status: 401 });
    await c.roleCredentials('acr-node-role');
    assert.equal(e.calls({ server: 'imds', action: TOKEN_PATH }).length, 2);
    assert.equal(retries.length, 1);
    assert.match(retries[0] ?? '', /rejected its session token/);
  });
});

describe('MetadataClient: RAM role', () => {
  it('no role attached -> no-role with advice, not retried', async () => {
    e.imds.setRole(null);
    const { c, retries } = client();
    const error = await providerError(c.roleName());
    assert.equal(error.errorClass, 'no-role');
    assert.equal(error.retryable, false);
    assert.match(error.message, /no RAM role is attached/);
    assert.match(error.message, /cr:GetAuthorizationToken/);
    assert.deepEqual(retries, []);
    assert.equal(e.calls({ server: 'imds', action: ROLE_PATH }).length, 1);
  });

  it('a named role that is not attached -> no-role naming it', async () => {
    const { c } = client();
    const error = await providerError(c.roleCredentials('other-role'));
    assert.equal(error.errorClass, 'no-role');
    assert.match(error.message, /RAM role "other-role" is not attached/);
  });

  it('roleCredentials returns the session and parses Expiration', async () => {
    const { c } = client();
    const creds = await c.roleCredentials('acr-node-role');
    const session = e.state.stsCredentialsFor(roleIdentity('acr-node-role'));
    assert.deepEqual(creds, {
      accessKeyId: session.accessKeyId,
      accessKeySecret: session.accessKeySecret,
      securityToken: session.securityToken,
      // IMDS prints whole seconds.
      expiresAt: Math.floor(session.expiresAt / 1000) * 1000,
    });
  });

  it('an empty role listing is no-role', async () => {
    // Role names come from the first line of the listing: a blank one is no role.
    e.imds.injectFault(ROLE_PATH, { status: 200, message: '\n' });
    const { c } = client();
    // The emulator's status fault answers with the message text as the body.
    const error = await providerError(c.roleName());
    assert.equal(error.errorClass, 'no-role');
  });
});

describe('MetadataClient: failures and retries', () => {
  it('an unreachable endpoint -> metadata, retryable, naming the endpoint, after retries', { timeout: 30_000 }, async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const { c, retries } = client({ endpoint });
    const error = await providerError(c.roleName());
    assert.equal(error.errorClass, 'metadata');
    assert.equal(error.retryable, true);
    assert.ok(error.message.includes(endpoint), error.message);
    assert.match(error.message, /\(ECONNREFUSED\)/);
    assert.equal(retries.length, 4, 'five attempts in all');
  });

  it('an unreachable endpoint with little time left gives up at the deadline', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const { c } = client({ endpoint, budgetMs: 200 });
    const error = await providerError(c.regionId());
    assert.equal(error.errorClass, 'metadata');
    assert.match(error.message, /deadline reached/);
    assert.ok(error.message.includes(endpoint));
  });

  const transient: Array<[string, Parameters<Emulators['imds']['injectFault']>[1]]> = [
    ['HTTP 500', { status: 500 }],
    ['HTTP 503 twice', { status: 503, times: 2 }],
    ['throttling (429)', { throttle: true }],
    ['a reset connection', { resetConnection: true }],
  ];
  for (const [name, fault] of transient) {
    it(`${name} on the credentials path is retried, then succeeds`, async () => {
      e.imds.injectFault(CREDS_PATH, fault);
      const { c, retries } = client();
      const creds = await c.roleCredentials('acr-node-role');
      assert.ok(creds.securityToken.length > 0);
      assert.equal(retries.length, fault.times ?? 1);
      const statuses = e.calls({ server: 'imds', action: CREDS_PATH }).map((x) => x.status);
      assert.equal(statuses.at(-1), 200);
      assert.equal(statuses.length, (fault.times ?? 1) + 1);
      assert.equal(e.state.faults.pending('imds'), 0);
    });
  }

  it('a 500 from the token API is retried too', async () => {
    e.imds.injectFault(TOKEN_PATH, { status: 500 });
    const { c, retries } = client();
    assert.equal(await c.roleName(), 'acr-node-role');
    assert.equal(c.mode, 'hardened');
    assert.equal(retries.length, 1);
    assert.match(retries[0] ?? '', /token API \(PUT .*\/latest\/api\/token\) failed \(HTTP 500\)/);
  });

  it('a token API that keeps answering 5xx: no silent downgrade to v1, a clear error saying how to allow the fallback', async () => {
    e.imds.injectFault(TOKEN_PATH, { status: 503, times: Infinity });
    const { c } = client();
    const error = await providerError(c.roleName());
    assert.equal(error.errorClass, 'metadata');
    assert.match(error.message, /token API \(PUT .*\/latest\/api\/token\) failed \(HTTP 503\)/);
    assert.match(error.message, /only when the service has no token API \(HTTP 403\/404\/405\)/);
    assert.match(error.message, /metadata\.allowV1OnTokenFailure: true/);
    assert.equal(e.calls({ server: 'imds' }).filter((x) => x.method === 'GET').length, 0, 'no tokenless request');
    assert.equal(c.mode, undefined);
  });

  it('a token API that times out: the same clear error', async () => {
    e.imds.injectFault(TOKEN_PATH, { delayMs: 5000, times: Infinity });
    const { c } = client({ budgetMs: 1200 });
    const error = await providerError(c.roleName());
    assert.match(error.message, /token API \(PUT .*\) failed \(timeout\)/);
    assert.match(error.message, /metadata\.allowV1OnTokenFailure: true/);
    assert.equal(e.calls({ server: 'imds' }).filter((x) => x.method === 'GET').length, 0, 'no tokenless request');
  });

  it('with metadata.allowV1OnTokenFailure a failing token API falls back to v1, as the SDKs do', async () => {
    e.imds.injectFault(TOKEN_PATH, { status: 500, times: Infinity });
    const { c, retries } = client({ allowV1OnTokenFailure: true });
    assert.equal(await c.roleName(), 'acr-node-role');
    assert.equal(c.mode, 'v1');
    assert.match(retries.join('\n'), /falling back to the tokenless protocol/);
  });

  it('with IMDSv1 disabled there is no fallback to suggest', async () => {
    e.imds.injectFault(TOKEN_PATH, { status: 503, times: Infinity });
    const { c } = client({ disableIMDSv1: true });
    const error = await providerError(c.roleName());
    assert.match(error.message, /failed \(HTTP 503\)/);
    assert.doesNotMatch(error.message, /allowV1OnTokenFailure/);
  });

  it('credentials JSON that stays truncated -> metadata error after five attempts, retryable, without the body', async () => {
    e.imds.injectFault(CREDS_PATH, { malformedJson: true, times: 10 });
    const { c } = client();
    e.resetCalls();
    const error = await providerError(c.roleCredentials('acr-node-role'));
    assert.equal(error.errorClass, 'metadata');
    assert.equal(error.retryable, true);
    assert.equal(error.message, 'the metadata service returned malformed credentials for RAM role "acr-node-role"');
    assert.equal(e.calls({ server: 'imds', action: CREDS_PATH }).length, 5);
  });

  it('truncated credentials JSON is retried, then parsed', async () => {
    e.imds.injectFault(CREDS_PATH, { malformedJson: true });
    const { c, retries } = client();
    const creds = await c.roleCredentials('acr-node-role');
    assert.ok(creds.accessKeyId.startsWith('STS.'));
    assert.equal(retries.length, 1);
    assert.match(retries[0] ?? '', /malformed credentials/);
  });

  it('a 403 in plain v1 is a clear, non-retried error', async () => {
    e.imds.setMode('unsupported');
    const { c } = client();
    await c.roleName(); // settles on v1
    e.imds.injectFault(ROLE_PATH, { status: 403 });
    const error = await providerError(c.roleName());
    assert.equal(error.errorClass, 'metadata');
    assert.equal(error.retryable, false);
    assert.match(error.message, /requires hardened mode/);
  });

  it('a 4xx other than 401/403/404 is not retried', async () => {
    e.imds.injectFault('/latest/meta-data/region-id', { status: 400 });
    const { c, retries } = client();
    const error = await providerError(c.regionId());
    assert.equal(error.errorClass, 'metadata');
    assert.equal(error.retryable, false);
    assert.match(error.message, /HTTP 400 for \/latest\/meta-data\/region-id/);
    assert.deepEqual(retries, []);
  });

  it('a region id that is not one is rejected', async () => {
    e.imds.setRegion('Not A Region');
    try {
      const { c } = client();
      const error = await providerError(c.regionId());
      assert.equal(error.errorClass, 'metadata');
      assert.match(error.message, /unexpected region id/);
      assert.ok(!error.message.includes('Not A Region'));
    } finally {
      e.imds.setRegion('cn-shanghai');
    }
  });
});
