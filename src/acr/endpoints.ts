// Where the CR OpenAPI of a region lives: an explicit per-region URL, else a {region} template,
// else Alibaba's public or VPC endpoint. openapi-client wants host[:port] and the protocol
// separately (a URL with a scheme in `endpoint` breaks its URL building).
import { ProviderError } from '../errors.ts';
import type { ProviderConfig } from '../config/resolve.ts';

export interface ApiEndpoint {
  url: string;
  protocol: 'http' | 'https';
  host: string;
}

export function crEndpointFor(region: string, cr: ProviderConfig['cr']): ApiEndpoint {
  const configured = cr.endpointMap[region] ?? cr.endpointTemplate?.replaceAll('{region}', region);
  const url = configured ?? (cr.network === 'vpc' ? `https://cr-vpc.${region}.aliyuncs.com` : `https://cr.${region}.aliyuncs.com`);
  return toApiEndpoint(url);
}

export function toApiEndpoint(url: string): ApiEndpoint {
  const parsed = new URL(url);
  if (parsed.pathname !== '/' || parsed.search) {
    throw new ProviderError('config', `API endpoint ${url} must not have a path or query: give scheme, host and port only`);
  }
  return { url: `${parsed.protocol}//${parsed.host}`, protocol: parsed.protocol === 'http:' ? 'http' : 'https', host: parsed.host };
}
