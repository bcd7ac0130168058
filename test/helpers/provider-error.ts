// Awaits a promise that must reject with a one-line ProviderError, and returns the error.
import assert from 'node:assert/strict';
import { ProviderError } from '../../src/errors.ts';

export async function providerError(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (error) {
    assert.ok(error instanceof ProviderError, `expected a ProviderError, got ${String(error)}`);
    assert.doesNotMatch(error.message, /\n/);
    return error;
  }
  assert.fail('expected a rejection');
}
