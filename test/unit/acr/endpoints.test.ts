import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { crEndpointChoice, crEndpointFor, toApiEndpoint } from '../../../src/acr/endpoints.ts';
import { REGIONS_WITHOUT_VPC_ENDPOINT, REGIONS_WITH_VPC_ENDPOINT } from '../../../src/acr/vpc-endpoints.ts';
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

describe('crEndpointChoice: cr.network vpc only where the region has a VPC endpoint', () => {
  for (const region of ['cn-huhehaote', 'cn-wulanchabu', 'cn-heyuan']) {
    it(`${region} (listed without one): the public endpoint, with a warning that says what to do`, () => {
      const choice = crEndpointChoice(region, cr({ network: 'vpc' }));
      assert.equal(choice.endpoint.url, `https://cr.${region}.aliyuncs.com`);
      assert.equal(choice.source, 'public-fallback');
      assert.match(choice.warning ?? '', new RegExp(`no VPC endpoint for ${region}.*https://cr\\.${region}\\.aliyuncs\\.com.*cr\\.endpoint`));
    });
  }

  it('a region the table does not know: the public endpoint, with a warning', () => {
    const choice = crEndpointChoice('ap-southeast-7', cr({ network: 'vpc' }));
    assert.equal(choice.endpoint.url, 'https://cr.ap-southeast-7.aliyuncs.com');
    assert.equal(choice.source, 'public-fallback');
    assert.ok(choice.warning);
  });

  for (const region of ['cn-hangzhou', 'cn-qingdao', 'ap-southeast-1', 'cn-hongkong']) {
    it(`${region}: cr-vpc, no warning`, () => {
      const choice = crEndpointChoice(region, cr({ network: 'vpc' }));
      assert.equal(choice.endpoint.url, `https://cr-vpc.${region}.aliyuncs.com`);
      assert.equal(choice.source, 'vpc');
      assert.equal(choice.warning, undefined);
    });
  }

  it('public network never warns; a configured endpoint wins over the table', () => {
    assert.equal(crEndpointChoice('cn-huhehaote', cr()).warning, undefined);
    const configured = crEndpointChoice('cn-huhehaote', cr({ network: 'vpc', endpointMap: { 'cn-huhehaote': 'http://127.0.0.1:1' } }));
    assert.equal(configured.source, 'configured');
    assert.equal(configured.warning, undefined);
  });

  it('the table is consistent: no region both with and without a VPC endpoint', () => {
    assert.ok(REGIONS_WITH_VPC_ENDPOINT.size > 10);
    for (const region of REGIONS_WITHOUT_VPC_ENDPOINT) assert.equal(REGIONS_WITH_VPC_ENDPOINT.has(region), false, region);
  });
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
