// cr.network: vpc in a region whose CR API has no VPC endpoint (cn-huhehaote, cn-wulanchabu,
// cn-heyuan in the ACR endpoint reference): the provider uses the public endpoint and says so in
// one warning, and doctor gives the same advice. No cloud endpoint is reached: the node has no
// RAM role, so the invocation stops at the metadata service, after choosing the endpoint.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withCloud } from '../helpers/cloud.ts';

const NO_VPC = 'cn-huhehaote';

describe('cr.network: vpc where the region has no VPC API endpoint', () => {
  it('the public endpoint, named in one warning; a region with one gets no warning', () =>
    withCloud(
      async (c) => {
        const r = await c.request(`registry.${NO_VPC}.aliyuncs.com/ns/app`, { args: ['--log-level', 'warn'] });
        assert.notEqual(r.code, 0, 'no role attached: the call fails after the endpoint is chosen');
        const warnings = r.stderr.split('\n').filter((l) => /no VPC endpoint/.test(l));
        assert.equal(warnings.length, 1, r.stderr);
        assert.match(warnings[0]!, new RegExp(`https://cr\\.${NO_VPC}\\.aliyuncs\\.com`));
        assert.doesNotMatch(r.stderr, new RegExp(`cr-vpc\\.${NO_VPC}`));
        const other = await c.request('registry.cn-qingdao.aliyuncs.com/ns/app');
        assert.doesNotMatch(other.stderr, /no VPC endpoint/);
      },
      { roleName: null, nodeRegion: NO_VPC, config: { cr: { network: 'vpc' } } },
    ));

  it('doctor: the same advice, before any network check', () =>
    withCloud(
      async (c) => {
        const r = await c.run({ args: ['doctor', '--output', 'json', '--host-root', c.dir, '--image', `registry.${NO_VPC}.aliyuncs.com/ns/app`] });
        const report = JSON.parse(r.stdout) as { checks: Array<{ id: string; status: string; message: string }> };
        const check = report.checks.find((x) => x.id === `cr-network.${NO_VPC}`);
        assert.ok(check, r.stdout);
        assert.equal(check.status, 'warn');
        assert.match(check.message, new RegExp(`no VPC endpoint for ${NO_VPC}.*https://cr\\.${NO_VPC}\\.aliyuncs\\.com`));
        assert.match(check.message, /NAT|route/);
      },
      { roleName: null, nodeRegion: NO_VPC, config: { cr: { network: 'vpc' } } },
    ));
});
