// One error type, one exit-code rule: bad input, flags or configuration exit 2 (fix the call), any
// other failure exits 1, in kubelet mode, the installer, doctor and metrics alike.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXIT_FAILURE, EXIT_USAGE, exitCodeFor, ProviderError, type ErrorClass } from '../../src/errors.ts';
import { decodeRequest } from '../../src/kubelet/request.ts';
import { parseManifest } from '../../src/payload/manifest.ts';

describe('exitCodeFor', () => {
  const rows: Array<[ErrorClass, number]> = [
    ['input', EXIT_USAGE],
    ['config', EXIT_USAGE],
    ['unsupported', EXIT_FAILURE],
    ['permission', EXIT_FAILURE],
    ['network', EXIT_FAILURE],
    ['deadline', EXIT_FAILURE],
    ['install', EXIT_FAILURE],
    ['internal', EXIT_FAILURE],
  ];
  for (const [errorClass, code] of rows) it(`${errorClass} -> ${code}`, () => assert.equal(exitCodeFor(new ProviderError(errorClass, 'x')), code));

  it('anything else thrown is a failure, not a usage error', () => {
    assert.equal(exitCodeFor(new Error('boom')), EXIT_FAILURE);
    assert.equal(exitCodeFor('boom'), EXIT_FAILURE);
  });

  it('a bad kubelet request and a bad payload manifest are ProviderErrors of their class', () => {
    assert.throws(() => decodeRequest('{'), (e: unknown) => e instanceof ProviderError && exitCodeFor(e) === EXIT_USAGE);
    assert.throws(() => parseManifest('{'), (e: unknown) => e instanceof ProviderError && e.errorClass === 'install');
  });
});
