// The CR API and STS read what the OpenAPI client throws the same way (net/openapi-errors.ts):
// the same failure gets the same class and retry decision from both, each message in its words.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyCallError } from '../../../src/acr/api-errors.ts';
import { classifyStsThrown } from '../../../src/identity/sts-errors.ts';

const cr = { action: 'ListInstance', ramAction: 'cr:ListInstance', region: 'cn-hangzhou', endpointUrl: 'https://cr.cn-hangzhou.aliyuncs.com', identity: 'ECS RAM role "node"' };
const sts = { action: 'AssumeRole' as const, endpointUrl: 'https://sts.aliyuncs.com', roleArn: 'acs:ram::1:role/r', caller: 'ECS RAM role "node"' };

describe('one reading of OpenAPI failures for the CR API and STS', () => {
  const rows: Array<[string, unknown, string, boolean, RegExp, RegExp]> = [
    ['connection refused', { code: 'ECONNREFUSED' }, 'network', true, /^cannot reach the CR API at \S+ \(ECONNREFUSED\): /, /^cannot reach STS at \S+ \(ECONNREFUSED\): .*sts\.network: vpc/],
    ['read timeout', { name: 'RequestTimeoutError' }, 'network', true, /\(timeout\)/, /\(timeout\)/],
    ['a thrown string', 'boom', 'network', true, /\(error\)/, /\(error\)/],
    ['truncated JSON', new SyntaxError('Unexpected end of JSON input {"SecurityToken":"secret-x'), 'api', true, /^ListInstance at \S+ returned a malformed response$/, /^AssumeRole at \S+ returned a malformed response$/],
    ['429', { statusCode: 429 }, 'throttled', true, /^ListInstance in cn-hangzhou was throttled \(HTTP 429\)$/, /^AssumeRole was throttled \(HTTP 429\)$/],
    ['503 ServiceUnavailable', { statusCode: 503, code: 'ServiceUnavailable' }, 'throttled', true, /throttled/, /throttled/],
    ['500', { statusCode: 500, code: 'InternalError' }, 'api', true, /failed on the server side \(InternalError\)/, /failed on the server side \(InternalError\)/],
    ['rejected AccessKey', { statusCode: 404, code: 'InvalidAccessKeyId.NotFound' }, 'api', false, /the cloud rejected the credentials of ECS RAM role "node"/, /the cloud rejected the credentials of ECS RAM role "node"/],
    ['expired STS token, sent as 403', { statusCode: 403, code: 'InvalidSecurityToken.Expired' }, 'api', false, /rejected the credentials.*clock/, /rejected the credentials.*clock/],
  ];
  for (const [name, error, errorClass, retryable, crMessage, stsMessage] of rows) {
    it(name, () => {
      const a = classifyCallError(error, cr);
      const b = classifyStsThrown(error, sts);
      assert.deepEqual([a.errorClass, a.retryable], [errorClass, retryable]);
      assert.deepEqual([b.errorClass, b.retryable], [errorClass, retryable]);
      assert.match(a.message, crMessage);
      assert.match(b.message, stsMessage);
      assert.doesNotMatch(`${a.message} ${b.message}`, /secret-x/);
    });
  }
});
