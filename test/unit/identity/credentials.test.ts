// createCloudCredential: the credential object every API client uses, read back through
// @alicloud/credentials' own getCredential(). The ECS source talks to the IMDS emulator.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProviderError } from '../../../src/errors.ts';
import { createCloudCredential } from '../../../src/identity/credentials.ts';
import { MetadataClient } from '../../../src/identity/imds-client.ts';
import { redact } from '../../../src/log/logger.ts';
import { Deadline } from '../../../src/resilience/deadline.ts';
import { roleIdentity } from '../../emulators/index.ts';
import { sharedEmulators } from '../../helpers/shared-emulators.ts';

const ROLE_PATH = '/latest/meta-data/ram/security-credentials/';

const e = sharedEmulators({}, { reset: (e) => e.imds.setRole('acr-node-role') });

function metadataFactory() {
  let created = 0;
  const factory = () => {
    created++;
    return new MetadataClient({ endpoint: e.imds.url, disableIMDSv1: false, deadline: new Deadline(20_000) });
  };
  return { factory, created: () => created };
}

const unusedMetadata = (): MetadataClient => assert.fail('the environment source must not touch the metadata service');

describe('createCloudCredential: environment source', () => {
  it('static AccessKey', async () => {
    const cc = createCloudCredential({ kind: 'environment', accessKeyId: 'LTAI-env-id', accessKeySecret: 'env-secret-value' }, unusedMetadata);
    const got = await cc.credential.getCredential();
    assert.equal(got.accessKeyId, 'LTAI-env-id');
    assert.equal(got.accessKeySecret, 'env-secret-value');
    assert.ok(!got.securityToken, 'no security token for a static key');
    assert.equal(cc.sessionExpiresAt(), undefined);
    assert.equal(e.calls({ server: 'imds' }).length, 0);
  });

  it('STS with a security token', async () => {
    const cc = createCloudCredential(
      { kind: 'environment', accessKeyId: 'STS.env-id', accessKeySecret: 'sts-secret-value', securityToken: 'CAIS-env-token-value' },
      unusedMetadata,
    );
    const got = await cc.credential.getCredential();
    assert.deepEqual(
      { id: got.accessKeyId, secret: got.accessKeySecret, token: got.securityToken },
      { id: 'STS.env-id', secret: 'sts-secret-value', token: 'CAIS-env-token-value' },
    );
    assert.equal(cc.sessionExpiresAt(), undefined);
  });

  it('registers the secret and the token for redaction (not the key id)', () => {
    createCloudCredential({ kind: 'environment', accessKeyId: 'LTAI-visible-id', accessKeySecret: 'secret-to-hide-1', securityToken: 'token-to-hide-1' }, unusedMetadata);
    assert.equal(redact('a secret-to-hide-1 b token-to-hide-1 c LTAI-visible-id'), 'a [REDACTED] b [REDACTED] c LTAI-visible-id');
  });
});

describe('createCloudCredential: ECS RAM role source', () => {
  it('discovers the attached role and returns its STS session', async () => {
    const { factory, created } = metadataFactory();
    const cc = createCloudCredential({ kind: 'ecs-ram-role' }, factory);
    assert.equal(created(), 0, 'no metadata client until credentials are needed');
    assert.equal(cc.sessionExpiresAt(), undefined);
    const got = await cc.credential.getCredential();
    const session = e.state.stsCredentialsFor(roleIdentity('acr-node-role'));
    assert.deepEqual(
      { id: got.accessKeyId, secret: got.accessKeySecret, token: got.securityToken, provider: got.providerName },
      { id: session.accessKeyId, secret: session.accessKeySecret, token: session.securityToken, provider: 'ecs_ram_role_hardened' },
    );
    assert.equal(cc.sessionExpiresAt(), Math.floor(session.expiresAt / 1000) * 1000);
    assert.equal(e.calls({ server: 'imds', action: ROLE_PATH }).length, 1, 'the role name was looked up');
    assert.equal(redact(`x ${session.accessKeySecret} ${session.securityToken}`), 'x [REDACTED] [REDACTED]');
  });

  it('reuses the session within the process (no second metadata call)', async () => {
    const { factory } = metadataFactory();
    const cc = createCloudCredential({ kind: 'ecs-ram-role' }, factory);
    const first = await cc.credential.getCredential();
    const calls = e.calls({ server: 'imds' }).length;
    const second = await cc.credential.getCredential();
    assert.equal(second.accessKeyId, first.accessKeyId);
    assert.equal(e.calls({ server: 'imds' }).length, calls);
  });

  it('a configured role name skips the lookup', async () => {
    const { factory } = metadataFactory();
    const cc = createCloudCredential({ kind: 'ecs-ram-role', roleName: 'acr-node-role' }, factory);
    const got = await cc.credential.getCredential();
    assert.ok(got.accessKeyId?.startsWith('STS.'));
    assert.equal(e.calls({ server: 'imds', action: ROLE_PATH }).length, 0);
    assert.equal(e.calls({ server: 'imds', action: `${ROLE_PATH}acr-node-role` }).length, 1);
  });

  it('refetches a session that expires within a minute', async () => {
    e.state.setStsLifetime(30_000); // shorter than the 60 s reuse margin
    e.state.setStsRotateBefore(0);
    try {
      const { factory } = metadataFactory();
      const cc = createCloudCredential({ kind: 'ecs-ram-role', roleName: 'acr-node-role' }, factory);
      e.state.expireSts();
      await cc.credential.getCredential();
      await cc.credential.getCredential();
      assert.equal(e.calls({ server: 'imds', action: `${ROLE_PATH}acr-node-role` }).length, 2);
    } finally {
      e.state.setStsLifetime(6 * 3600_000);
      e.state.setStsRotateBefore(30 * 60_000);
      e.state.expireSts();
    }
  });

  it('no role attached surfaces as the no-role ProviderError', async () => {
    e.imds.setRole(null);
    const { factory } = metadataFactory();
    const cc = createCloudCredential({ kind: 'ecs-ram-role' }, factory);
    await assert.rejects(cc.credential.getCredential(), (error) => error instanceof ProviderError && error.errorClass === 'no-role');
  });
});
