// Which regions have a VPC endpoint for the CR OpenAPI (cr-vpc.<region>.aliyuncs.com). Not all
// do: with cr.network: vpc elsewhere, the provider uses the public endpoint and says so once.
//
// Source: Alibaba Cloud, "Container Registry: Endpoints" (CR API 2018-12-01),
// https://www.alibabacloud.com/help/en/acr/developer-reference/api-cr-2018-12-01-endpoint,
// "Last Updated: Dec 16, 2025", read 2026-12-01. Its Asia Pacific table lists a VPC access
// address for every region below up to cn-guangzhou, and none for cn-huhehaote, cn-wulanchabu and
// cn-heyuan. The rest of that table (cn-wuhan-lr onwards) could not be read in full; the regions
// marked "older list" come from the CR endpoint metadata of the SDKs' endpoint data (public and
// "internal" = cr-vpc for 20 regions, as carried by the PHP SDK aliyun\sdk\services\Cr), which the
// 2025 page contradicts only for cn-huhehaote (no VPC endpoint there now). Keep this in step with
// the page; any region can be pointed at an endpoint explicitly with cr.endpoint.

/** Regions with cr-vpc.<region>.aliyuncs.com. */
export const REGIONS_WITH_VPC_ENDPOINT: ReadonlySet<string> = new Set([
  // ACR endpoint reference, 2025-12-16
  'ap-southeast-2',
  'ap-southeast-6',
  'ap-northeast-2',
  'cn-qingdao',
  'cn-beijing',
  'cn-zhangjiakou',
  'cn-hangzhou',
  'cn-shanghai',
  'cn-nanjing',
  'cn-fuzhou',
  'cn-shenzhen',
  'cn-guangzhou',
  // older list (not contradicted by the reference)
  'ap-northeast-1',
  'ap-south-1',
  'ap-southeast-1',
  'ap-southeast-3',
  'ap-southeast-5',
  'cn-chengdu',
  'cn-hongkong',
  'eu-central-1',
  'eu-west-1',
  'me-east-1',
  'us-east-1',
  'us-west-1',
]);

/** Regions the reference lists with a public CR API endpoint only. */
export const REGIONS_WITHOUT_VPC_ENDPOINT: ReadonlySet<string> = new Set(['cn-huhehaote', 'cn-wulanchabu', 'cn-heyuan']);

/** Where this table comes from, for messages. */
export const VPC_ENDPOINT_SOURCE = 'the ACR endpoint reference (2025-12-16)';

export function hasVpcEndpoint(region: string): boolean {
  return REGIONS_WITH_VPC_ENDPOINT.has(region);
}
