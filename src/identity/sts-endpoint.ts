// Where STS lives: a configured URL (optionally a {region} template), else Alibaba's global
// public endpoint, or the node region's VPC endpoint for nodes without internet access.
import { toApiEndpoint, type ApiEndpoint } from '../acr/endpoints.ts';
import { ProviderError } from '../errors.ts';

export function stsEndpointFor(sts: { network: 'public' | 'vpc'; endpoint?: string }, region: string | undefined): ApiEndpoint {
  if (sts.endpoint !== undefined) {
    if (sts.endpoint.includes('{region}') && region === undefined) throw new ProviderError('config', 'sts.endpoint has {region} but the region is unknown: set sts.regionId');
    return toApiEndpoint(sts.endpoint.replaceAll('{region}', region ?? ''));
  }
  if (sts.network === 'vpc') {
    if (region === undefined) throw new ProviderError('config', 'sts.network is vpc but the region is unknown: set sts.regionId');
    return toApiEndpoint(`https://sts-vpc.${region}.aliyuncs.com`);
  }
  return toApiEndpoint('https://sts.aliyuncs.com');
}
