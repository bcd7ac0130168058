import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { crEndpointFor, toApiEndpoint } from '../../../src/acr/endpoints.ts';
import type { ProviderConfig } from '../../../src/config/resolve.ts';
import { ProviderError } from '../../../src/errors.ts';

type Cr = ProviderConfig['cr'];
const cr = (over: Partial<Cr> = {}): Cr => ({ network: 'public', endpointMap: {}, ...over });

describe('crEndpointFor: map > template > default', () => {
  const rows: Array<[string, string, Cr, string]> = [
    ['public default', 'cn-hangzhou', cr(), 'https://cr.cn-hangzhou.aliyuncs.com'],
    ['vpc default', 'cn-hangzhou', cr({ network: 'vpc' }), 'https://cr-vpc.cn-hangzhou.aliyuncs.com'],
    ['finance region default', 'cn-shanghai-finance-1', cr(), 'https://cr.cn-shanghai-finance-1.aliyuncs.com'],
    ['template', 'cn-beijing', cr({ endpointTemplate: 'http://cr.{region}.internal:8080' }), 'http://cr.cn-beijing.internal:8080'],
    ['template beats network', 'cn-beijing', cr({ network: 'vpc', endpointTemplate: 'https://{region}.proxy' }), 'https://cn-beijing.proxy'],
    ['template without {region}', 'cn-beijing', cr({ endpointTemplate: 'http://127.0.0.1:9000' }), 'http://127.0.0.1:9000'],
    ['template with {region} twice', 'ap-southeast-1', cr({ endpointTemplate: 'https://{region}.{region}.test' }), 'https://ap-southeast-1.ap-southeast-1.test'],
    ['map beats template', 'cn-hangzhou', cr({ endpointTemplate: 'https://t.{region}', endpointMap: { 'cn-hangzhou': 'http://127.0.0.1:1' } }), 'http://127.0.0.1:1'],
    ['map for another region: template', 'cn-shanghai', cr({ endpointTemplate: 'https://t.{region}', endpointMap: { 'cn-hangzhou': 'http://127.0.0.1:1' } }), 'https://t.cn-shanghai'],
    ['map for another region, no template: default', 'cn-shanghai', cr({ network: 'vpc', endpointMap: { 'cn-hangzhou': 'http://127.0.0.1:1' } }), 'https://cr-vpc.cn-shanghai.aliyuncs.com'],
    ['trailing slash is fine', 'cn-hangzhou', cr({ endpointMap: { 'cn-hangzhou': 'http://127.0.0.1:1/' } }), 'http://127.0.0.1:1'],
  ];
  for (const [name, region, config, url] of rows) {
    it(name, () => {
      assert.equal(crEndpointFor(region, config).url, url);
    });
  }
});

describe('toApiEndpoint', () => {
  const good: Array<[string, { url: string; protocol: 'http' | 'https'; host: string }]> = [
    ['https://cr.cn-hangzhou.aliyuncs.com', { url: 'https://cr.cn-hangzhou.aliyuncs.com', protocol: 'https', host: 'cr.cn-hangzhou.aliyuncs.com' }],
    ['http://127.0.0.1:8080', { url: 'http://127.0.0.1:8080', protocol: 'http', host: '127.0.0.1:8080' }],
    ['http://127.0.0.1:8080/', { url: 'http://127.0.0.1:8080', protocol: 'http', host: '127.0.0.1:8080' }],
    ['https://cr.example.com:443', { url: 'https://cr.example.com', protocol: 'https', host: 'cr.example.com' }],
    ['HTTPS://CR.Example.com', { url: 'https://cr.example.com', protocol: 'https', host: 'cr.example.com' }],
  ];
  for (const [input, want] of good) {
    it(`splits ${input}`, () => assert.deepEqual(toApiEndpoint(input), want));
  }

  for (const bad of ['http://127.0.0.1:8080/api', 'https://cr.example.com/cr/', 'https://cr.example.com/?x=1', 'https://cr.example.com?region=cn']) {
    it(`rejects ${bad} (path or query)`, () => {
      assert.throws(
        () => toApiEndpoint(bad),
        (error) => error instanceof ProviderError && error.errorClass === 'config' && error.message.includes(bad) && /must not have a path or query/.test(error.message),
      );
    });
  }

  it('a configured endpoint with a path is rejected through crEndpointFor', () => {
    assert.throws(() => crEndpointFor('cn-hangzhou', cr({ endpointTemplate: 'https://proxy.example.com/{region}' })), ProviderError);
  });
});
