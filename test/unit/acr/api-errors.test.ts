import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { classifyApiCode, classifyCallError, type CallContext } from '../../../src/acr/api-errors.ts';
import { ProviderError, type ErrorClass } from '../../../src/errors.ts';

const ctx: CallContext = {
  action: 'GetAuthorizationToken',
  ramAction: 'cr:GetAuthorizationToken',
  region: 'cn-hangzhou',
  endpointUrl: 'https://cr.cn-hangzhou.aliyuncs.com',
  identity: 'ECS RAM role "node"',
  subject: 'instance cri-abc',
};

describe('classifyCallError: what openapi-client throws', () => {
  const rows: Array<[string, unknown, ErrorClass, boolean, RegExp]> = [
    ['connection refused', { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }, 'network', true, /^cannot reach the CR API at https:\/\/cr\.cn-hangzhou\.aliyuncs\.com \(ECONNREFUSED\).*cr-vpc\.cn-hangzhou\.aliyuncs\.com/],
    ['connection reset', { code: 'ECONNRESET' }, 'network', true, /\(ECONNRESET\)/],
    ['DNS failure', { code: 'ENOTFOUND' }, 'network', true, /\(ENOTFOUND\)/],
    ['read timeout', { name: 'RequestTimeoutError', message: 'ReadTimeout(10000)' }, 'network', true, /\(timeout\)/],
    ['unknown transport code', { code: 'EWEIRD' }, 'network', true, /\(EWEIRD\)/],
    ['truncated JSON', Object.assign(new SyntaxError('Unexpected end of JSON input in {"AuthorizationToken":"tok'), {}), 'api', true, /^GetAuthorizationToken at https:\/\/cr\.cn-hangzhou\.aliyuncs\.com returned a malformed response$/],
    ['503 ServiceUnavailable', { statusCode: 503, code: 'ServiceUnavailable', data: { Message: 'busy' } }, 'throttled', true, /was throttled \(ServiceUnavailable: busy\)/],
    ['500 InternalError', { statusCode: 500, code: 'InternalError' }, 'api', true, /failed on the server side \(InternalError\)/],
    ['429 without code', { statusCode: 429 }, 'throttled', true, /throttled \(HTTP 429\)/],
    ['400 Throttling.User', { statusCode: 400, code: 'Throttling.User', data: { Message: 'flow control' } }, 'throttled', true, /throttled/],
    ['400 Throttling.Api', { statusCode: 400, code: 'Throttling.Api' }, 'throttled', true, /throttled/],
    ['403 Forbidden.RAM', { statusCode: 403, code: 'Forbidden.RAM' }, 'permission', false, /^ECS RAM role "node" is not allowed to call cr:GetAuthorizationToken in cn-hangzhou for instance cri-abc \(Forbidden\.RAM\): grant cr:GetAuthorizationToken/],
    ['400 NoPermission', { statusCode: 400, code: 'NoPermission' }, 'permission', false, /not allowed to call cr:GetAuthorizationToken/],
    ['403 with no code', { statusCode: 403 }, 'permission', false, /\(403\)/],
    ['404 INSTANCE_NOT_EXIST', { statusCode: 404, code: 'INSTANCE_NOT_EXIST' }, 'not-found', false, /^GetAuthorizationToken for instance cri-abc in cn-hangzhou: no such instance visible to ECS RAM role "node" \(INSTANCE_NOT_EXIST\)$/],
    ['400 SignatureDoesNotMatch', { statusCode: 400, code: 'SignatureDoesNotMatch' }, 'api', false, /rejected the credentials.*clock/],
    ['404 InvalidAccessKeyId.NotFound', { statusCode: 404, code: 'InvalidAccessKeyId.NotFound' }, 'api', false, /rejected the credentials/],
    ['400 InvalidSecurityToken.Expired', { statusCode: 400, code: 'InvalidSecurityToken.Expired' }, 'api', false, /rejected the credentials/],
    ['400 other', { statusCode: 400, code: 'PARAM_INVALID', data: { Message: 'bad\nparam' } }, 'api', false, /^GetAuthorizationToken for instance cri-abc in cn-hangzhou failed \(PARAM_INVALID: bad param\)$/],
  ];
  for (const [name, error, errorClass, retryable, message] of rows) {
    it(`${name} -> ${errorClass}${retryable ? ', retryable' : ''}`, () => {
      const classified = classifyCallError(error, ctx);
      assert.ok(classified instanceof ProviderError);
      assert.equal(classified.errorClass, errorClass);
      assert.equal(classified.retryable, retryable);
      assert.match(classified.message, message);
      assert.doesNotMatch(classified.message, /\n/);
    });
  }

  it('a SyntaxError quoting the body does not leak it', () => {
    const error = new SyntaxError('Unexpected token in JSON at position 40: {"AuthorizationToken":"FAKE-TOKEN-LEAK"');
    const classified = classifyCallError(error, ctx);
    assert.ok(!classified.message.includes('FAKE-TOKEN-LEAK'));
    assert.equal(classified.cause, undefined);
  });

  it('a ProviderError passes through unchanged', () => {
    const original = new ProviderError('no-role', 'no role', { retryable: false });
    assert.equal(classifyCallError(original, ctx), original);
  });

  it('non-object throws are network errors, not crashes', () => {
    assert.equal(classifyCallError('boom', ctx).errorClass, 'network');
    assert.equal(classifyCallError(undefined, ctx).errorClass, 'network');
  });

  it('long server messages are clipped', () => {
    const classified = classifyApiCode('PARAM_INVALID', 'x'.repeat(500), 400, ctx);
    assert.ok(classified.message.includes(`${'x'.repeat(157)}...`));
    assert.ok(!classified.message.includes('x'.repeat(158)));
  });

  it('without a subject the message has no "for"', () => {
    const { subject: _omit, ...plain } = ctx;
    assert.equal(classifyApiCode('INSTANCE_NOT_EXIST', undefined, 200, plain).message, 'GetAuthorizationToken in cn-hangzhou: no such instance visible to ECS RAM role "node" (INSTANCE_NOT_EXIST)');
  });
});
