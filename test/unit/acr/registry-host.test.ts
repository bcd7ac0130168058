import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { classifyRegistryHost } from '../../../src/acr/registry-host.ts';
import { isValidRegionId } from '../../../src/region-id.ts';
import type { RegistryTarget } from '../../../src/acr/registry-host.ts';

// Distributes over the union so each variant keeps its own fields.
type WithoutHost<T> = T extends unknown ? Omit<T, 'host'> : never;
type Want = WithoutHost<Exclude<RegistryTarget, { kind: 'unrecognized' | 'custom' }>>;

const pe = (region: string, intl: boolean, network: 'public' | 'vpc' | 'internal'): Want => ({ kind: 'personal', region, intl, network });
const ee = (instanceName: string, region: string, network: 'public' | 'vpc'): Want => ({ kind: 'enterprise', region, instanceName, network });
const crpi = (instanceId: string, region: string, network: 'public' | 'vpc'): Want => ({ kind: 'personal-dedicated', region, instanceId, network });

const NAME_30 = 'a23456789-123456789-12345678z0';

describe('classifyRegistryHost: built-in ACR forms', () => {
  const rows: Array<[string, Want]> = [
    // Personal Edition, every prefix. registry-intl-internal (classic network,
    // international site) is accepted: it follows the same grammar and is seen in use.
    ['registry.cn-hangzhou.aliyuncs.com', pe('cn-hangzhou', false, 'public')],
    ['registry-vpc.cn-hangzhou.aliyuncs.com', pe('cn-hangzhou', false, 'vpc')],
    ['registry-internal.cn-hangzhou.aliyuncs.com', pe('cn-hangzhou', false, 'internal')],
    ['registry-intl.ap-southeast-1.aliyuncs.com', pe('ap-southeast-1', true, 'public')],
    ['registry-intl-vpc.ap-southeast-1.aliyuncs.com', pe('ap-southeast-1', true, 'vpc')],
    ['registry-intl-internal.ap-southeast-2.aliyuncs.com', pe('ap-southeast-2', true, 'internal')],
    ['registry.cn-shanghai-finance-1.aliyuncs.com', pe('cn-shanghai-finance-1', false, 'public')],
    ['registry-vpc.cn-shanghai-finance-1.aliyuncs.com', pe('cn-shanghai-finance-1', false, 'vpc')],
    ['registry.cn-wulanchabu-gic-1.aliyuncs.com', pe('cn-wulanchabu-gic-1', false, 'public')],
    ['registry-internal.cn-wulanchabu-gic-1.aliyuncs.com', pe('cn-wulanchabu-gic-1', false, 'internal')],
    ['registry.cn-north-2-gov-1.aliyuncs.com', pe('cn-north-2-gov-1', false, 'public')],
    ['registry-vpc.cn-north-2-gov-1.aliyuncs.com', pe('cn-north-2-gov-1', false, 'vpc')],
    ['registry.cn-hangzhou-finance.aliyuncs.com', pe('cn-hangzhou-finance', false, 'public')],
    ['registry-intl.us-west-1.aliyuncs.com', pe('us-west-1', true, 'public')],
    ['registry-intl-vpc.me-east-1.aliyuncs.com', pe('me-east-1', true, 'vpc')],
    ['registry-intl.eu-central-1.aliyuncs.com', pe('eu-central-1', true, 'public')],
    ['registry.cn-zhengzhou-jva.aliyuncs.com', pe('cn-zhengzhou-jva', false, 'public')],
    ['REGISTRY.CN-HANGZHOU.ALIYUNCS.COM', pe('cn-hangzhou', false, 'public')],
    ['Registry-VPC.cn-Beijing.AliyunCS.com', pe('cn-beijing', false, 'vpc')],
    // Enterprise Edition system domains.
    ['myinst-registry.cn-hangzhou.cr.aliyuncs.com', ee('myinst', 'cn-hangzhou', 'public')],
    ['myinst-registry-vpc.cn-hangzhou.cr.aliyuncs.com', ee('myinst', 'cn-hangzhou', 'vpc')],
    ['my-team-prod-registry.cn-shanghai.cr.aliyuncs.com', ee('my-team-prod', 'cn-shanghai', 'public')],
    ['my-team-prod-registry-vpc.cn-shanghai.cr.aliyuncs.com', ee('my-team-prod', 'cn-shanghai', 'vpc')],
    ['my-registry-registry.cn-beijing.cr.aliyuncs.com', ee('my-registry', 'cn-beijing', 'public')],
    ['registry-registry-vpc.cn-beijing.cr.aliyuncs.com', ee('registry', 'cn-beijing', 'vpc')],
    ['a-registry-vpc-registry.cn-beijing.cr.aliyuncs.com', ee('a-registry-vpc', 'cn-beijing', 'public')],
    ['abc-registry.ap-southeast-1.cr.aliyuncs.com', ee('abc', 'ap-southeast-1', 'public')],
    ['a1b-registry-vpc.cn-shanghai-finance-1.cr.aliyuncs.com', ee('a1b', 'cn-shanghai-finance-1', 'vpc')],
    [`${NAME_30}-registry.cn-hangzhou.cr.aliyuncs.com`, ee(NAME_30, 'cn-hangzhou', 'public')],
    ['123-registry.cn-north-2-gov-1.cr.aliyuncs.com', ee('123', 'cn-north-2-gov-1', 'public')],
    ['Prod-Registry.CN-Hangzhou.CR.aliyuncs.com', ee('prod', 'cn-hangzhou', 'public')],
    // Personal Edition exclusive endpoints.
    ['crpi-abc123xyz.cn-hangzhou.personal.cr.aliyuncs.com', crpi('crpi-abc123xyz', 'cn-hangzhou', 'public')],
    ['crpi-abc123xyz-vpc.cn-hangzhou.personal.cr.aliyuncs.com', crpi('crpi-abc123xyz', 'cn-hangzhou', 'vpc')],
    ['crpi-7x.ap-southeast-1.personal.cr.aliyuncs.com', crpi('crpi-7x', 'ap-southeast-1', 'public')],
    ['CRPI-ABC.cn-beijing.Personal.CR.aliyuncs.com', crpi('crpi-abc', 'cn-beijing', 'public')],
    // The HTTPS port spelled out: the same registry (the host keeps the port, auth is keyed by it).
    ['registry.cn-hangzhou.aliyuncs.com:443', pe('cn-hangzhou', false, 'public')],
    ['registry-vpc.cn-hangzhou.aliyuncs.com:443', pe('cn-hangzhou', false, 'vpc')],
    ['inst-registry.cn-hangzhou.cr.aliyuncs.com:443', ee('inst', 'cn-hangzhou', 'public')],
    ['inst-registry-vpc.cn-hangzhou.cr.aliyuncs.com:443', ee('inst', 'cn-hangzhou', 'vpc')],
    ['crpi-abc123xyz.cn-hangzhou.personal.cr.aliyuncs.com:443', crpi('crpi-abc123xyz', 'cn-hangzhou', 'public')],
  ];
  for (const [host, want] of rows) {
    it(host, () => assert.deepEqual(classifyRegistryHost(host), { ...want, host }));
  }
});

describe('classifyRegistryHost: look-alikes and malformed hosts are unrecognized', () => {
  const hosts = [
    'registry.cn-hangzhou.aliyuncs.com.evil.com',
    'registry.oss-cn-hangzhou.aliyuncs.com',
    'registry-vpc.oss-cn-hangzhou.aliyuncs.com',
    'x-registry.cn-shanghai.cr.aliyuncs.com.attacker.io',
    'registryx.cn-hangzhou.aliyuncs.com',
    'xregistry.cn-hangzhou.aliyuncs.com',
    'registry.cn-hangzhou.aliyuncs.com.',
    'registry..aliyuncs.com',
    '.registry.cn-hangzhou.aliyuncs.com',
    'registry.cn-hangzhou..aliyuncs.com',
    '-registry.cn-hangzhou.cr.aliyuncs.com',
    'ab-registry.cn-hangzhou.cr.aliyuncs.com',
    `${NAME_30}1-registry.cn-hangzhou.cr.aliyuncs.com`,
    '-ab-registry.cn-hangzhou.cr.aliyuncs.com',
    'ab--registry.cn-hangzhou.cr.aliyuncs.com',
    'my_inst-registry.cn-hangzhou.cr.aliyuncs.com',
    'registry.cn-hangzhou.cr.aliyuncs.com',
    'inst-registry.cn-hangzhou.aliyuncs.com',
    'registry.cn-hangzhou.personal.cr.aliyuncs.com',
    'crpi-abc.cn-hangzhou.cr.aliyuncs.com',
    'crpi-.cn-hangzhou.personal.cr.aliyuncs.com',
    'crpi-ab_c.cn-hangzhou.personal.cr.aliyuncs.com',
    'crpi-ab-cd.cn-hangzhou.personal.cr.aliyuncs.com',
    'crpi-abc-internal.cn-hangzhou.personal.cr.aliyuncs.com',
    'registry-vpc-intl.cn-hangzhou.aliyuncs.com',
    'registry-intl-vpc-internal.cn-hangzhou.aliyuncs.com',
    'registry.distributed.cn-hangzhou.aliyuncs.com',
    'registry.cn.aliyuncs.com',
    'registry.c-hangzhou.aliyuncs.com',
    'registry.cn-.aliyuncs.com',
    'registry.cn-hang_zhou.aliyuncs.com',
    'registry.cn-hangzhou.aliyuncs.com:5000',
    'registry.cn-hangzhou.aliyuncs.com:80',
    'registry.cn-hangzhou.aliyuncs.com:444',
    'registry.cn-hangzhou.aliyuncs.com:4430',
    'registry.cn-hangzhou.aliyuncs.com:0443',
    'registry.cn-hangzhou.aliyuncs.com:443:443',
    'registry.cn-hangzhou.aliyuncs.com:443.evil.com',
    'registry.cn-hangzhou.aliyuncs.com:+443',
    'registry.cn-hangzhou.aliyuncs.com:',
    'registry.cn-hangzhou.aliyuncs.com.:443',
    'registry.cn-hangzhou.aliyuncs.com.evil.com:443',
    'inst-registry.cn-hangzhou.cr.aliyuncs.com:8443',
    'inst-registry.cn-hangzhou.cr.aliyuncs.com:443/ns',
    ':443',
    'a@registry.cn-hangzhou.aliyuncs.com',
    'registry.cn-hangzhou.aliyuncs.com@evil.com',
    '47.96.0.1',
    '[::1]',
    '[2001:db8::1]:5000',
    'registry.cn-zhangjia\u212Aou.aliyuncs.com', // KELVIN SIGN lowers to 'k' in Unicode, not in DNS
    'reg\u0131stry.cn-hangzhou.aliyuncs.com', // dotless i
    'registry.cn-hangzhou.aliyuncs.com\u0000',
    'registry.cn-hangzhou.aliyuncs.com/ns',
    'registry cn-hangzhou.aliyuncs.com',
    'registry.cn-hangzhou.aliyuncs.co',
    'registry.cn-hangzhou.aliyuncs.com.cn',
    'registry.cn-hangzhou.aliyun.com',
    'docker.io',
    'foo.example.com',
    '',
  ];
  for (const host of hosts) {
    it(JSON.stringify(host), () => assert.deepEqual(classifyRegistryHost(host), { kind: 'unrecognized', host }));
  }
});

describe('classifyRegistryHost: custom domains from configuration', () => {
  const custom = [
    { domains: ['registry.example.com', 'harbor.example.com:30843'] },
    { domains: ['Images.Corp.Example'] },
    { domains: ['registry.cn-hangzhou.aliyuncs.com'] },
  ];
  const rows: Array<[string, RegistryTarget['kind'], number?]> = [
    ['registry.example.com', 'custom', 0],
    ['REGISTRY.example.COM', 'custom', 0],
    ['harbor.example.com:30843', 'custom', 0],
    ['Harbor.Example.com:30843', 'custom', 0],
    ['images.corp.example', 'custom', 1],
    ['registry.cn-hangzhou.aliyuncs.com', 'custom', 2], // explicit entries are checked first
    ['harbor.example.com', 'unrecognized'], // port must match exactly
    ['harbor.example.com:30844', 'unrecognized'],
    ['registry.example.com:443', 'unrecognized'],
    ['sub.registry.example.com', 'unrecognized'],
    ['registry.example.com.', 'unrecognized'],
    ['registry-vpc.cn-hangzhou.aliyuncs.com', 'personal'],
    // A built-in host listed for policy governs its :443 spelling too (no way around the entry).
    ['registry.cn-hangzhou.aliyuncs.com:443', 'custom', 2],
    ['REGISTRY.cn-hangzhou.aliyuncs.com:443', 'custom', 2],
    ['registry.cn-hangzhou.aliyuncs.com:5000', 'unrecognized'],
  ];
  for (const [host, kind, entryIndex] of rows) {
    it(`${host} -> ${kind}${entryIndex === undefined ? '' : ` #${entryIndex}`}`, () => {
      const got = classifyRegistryHost(host, custom);
      assert.equal(got.kind, kind);
      assert.equal(got.host, host, 'host returned exactly as given');
      if (entryIndex !== undefined) assert.deepEqual(got, { kind: 'custom', host, entryIndex });
    });
  }

  it('an entry that spells out :443 on a built-in host governs the plain host too', () => {
    assert.deepEqual(classifyRegistryHost('acme-registry.cn-hangzhou.cr.aliyuncs.com', [{ domains: ['acme-registry.cn-hangzhou.cr.aliyuncs.com:443'] }]), { kind: 'custom', host: 'acme-registry.cn-hangzhou.cr.aliyuncs.com', entryIndex: 0 });
  });

  it('ignores an empty list', () => {
    assert.equal(classifyRegistryHost('registry.example.com', []).kind, 'unrecognized');
  });

  it('does not fold non-ASCII case in custom domains', () => {
    assert.equal(classifyRegistryHost('\u212Aube.example', [{ domains: ['kube.example'] }]).kind, 'unrecognized');
  });
});

describe('isValidRegionId', () => {
  const valid = [
    'cn-hangzhou',
    'cn-shanghai-finance-1',
    'cn-wulanchabu-gic-1',
    'cn-north-2-gov-1',
    'ap-southeast-1',
    'us-west-1',
    'me-east-1',
    'cn-hangzhou-finance',
    'cn-heyuan-acdr-1',
    'eu-central-1',
  ];
  const invalid = [
    '',
    'cn',
    'cn-',
    'oss-cn-hangzhou',
    'c-hangzhou',
    'CN-hangzhou',
    'cn-Hangzhou',
    'cn--hangzhou',
    'cn-hangzhou-',
    '-cn-hangzhou',
    'cn_hangzhou',
    'cn-hangzhou.evil',
    '1n-hangzhou',
    `cn-${'a'.repeat(61)}`,
  ];
  for (const r of valid) it(`valid: ${r}`, () => assert.equal(isValidRegionId(r), true));
  for (const r of invalid) it(`invalid: ${JSON.stringify(r)}`, () => assert.equal(isValidRegionId(r), false));
});
