// The one grammar of an Alibaba Cloud region id ("cn-hangzhou", "cn-shanghai-finance-1",
// "ap-southeast-1"), for hosts, configuration and the metadata service alike: two letters, then
// '-'-separated lowercase alphanumeric words, at most one DNS label long. The fixed two-letter
// start keeps OSS-style names such as "oss-cn-hangzhou" out.
const REGION_ID = /^[a-z]{2}(?:-[a-z0-9]+)+$/;

export function isValidRegionId(region: string): boolean {
  return region.length <= 63 && REGION_ID.test(region);
}
