// Where the CR OpenAPI of a region lives: an explicit per-region URL, else a {region} template,
// else Alibaba's public or VPC endpoint (VPC only where the region has one: vpc-endpoints.ts).
// openapi-client wants host[:port] and the protocol separately (a URL with a scheme in
// `endpoint` breaks its URL building).
import { ProviderError } from '../errors.ts';
import type { ProviderConfig } from '../config/resolve.ts';
import { hasVpcEndpoint, VPC_ENDPOINT_SOURCE } from './vpc-endpoints.ts';

export interface ApiEndpoint {
  url: string;
  protocol: 'http' | 'https';
  host: string;
}

export interface CrEndpointChoice {
  endpoint: ApiEndpoint;
  /** public-fallback: cr.network is vpc but the region has no VPC endpoint. */
  source: 'configured' | 'public' | 'vpc' | 'public-fallback';
  /** Said once per invocation when the choice is not what cr.network asks for. */
  warning?: string;
}

export function crEndpointChoice(region: string, cr: ProviderConfig['cr']): CrEndpointChoice {
  const configured = cr.endpointMap[region] ?? cr.endpointTemplate?.replaceAll('{region}', region);
  if (configured !== undefined) return { endpoint: toApiEndpoint(configured), source: 'configured' };
  const publicUrl = `https://cr.${region}.aliyuncs.com`;
  if (cr.network !== 'vpc') return { endpoint: toApiEndpoint(publicUrl), source: 'public' };
  if (hasVpcEndpoint(region)) return { endpoint: toApiEndpoint(`https://cr-vpc.${region}.aliyuncs.com`), source: 'vpc' };
  return {
    endpoint: toApiEndpoint(publicUrl),
    source: 'public-fallback',
    warning: `cr.network is vpc, but ${VPC_ENDPOINT_SOURCE} lists no VPC endpoint for ${region}: using the public CR API endpoint ${publicUrl}, which needs a route to the internet (NAT gateway or EIP); if this node has another way in, set cr.endpoint for ${region}`,
  };
}

export function crEndpointFor(region: string, cr: ProviderConfig['cr']): ApiEndpoint {
  return crEndpointChoice(region, cr).endpoint;
}

export function toApiEndpoint(url: string): ApiEndpoint {
  const parsed = new URL(url);
  if (parsed.pathname !== '/' || parsed.search) {
    throw new ProviderError('config', `API endpoint ${url} must not have a path or query: give scheme, host and port only`);
  }
  return { url: `${parsed.protocol}//${parsed.host}`, protocol: parsed.protocol === 'http:' ? 'http' : 'https', host: parsed.host };
}

/** What to check when the chosen endpoint cannot be reached. */
export function unreachableHint(choice: Pick<CrEndpointChoice, 'source'>, region: string): string {
  switch (choice.source) {
    case 'configured':
      return `check cr.endpoint for ${region} and the node's route to it`;
    case 'vpc':
      return 'check that the VPC endpoint resolves from this node and that its security group allows HTTPS out';
    case 'public-fallback':
      return `${region} has no VPC endpoint for the CR API, so the node needs a route to the public one (NAT gateway or EIP), or set cr.endpoint for ${region}`;
    case 'public':
      return hasVpcEndpoint(region)
        ? `check the node's route to it; nodes without internet access need cr.network: vpc (cr-vpc.${region}.aliyuncs.com)`
        : `check the node's route to it; ${region} has no VPC endpoint for the CR API, so nodes without internet access need a NAT gateway or EIP`;
  }
}
