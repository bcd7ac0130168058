// `get-credentials IMAGE`: the kubelet's path, from a shell. Prints the response the kubelet
// would get, with the password redacted unless --show-password.
import type { FlagValues } from '../config/resolve.ts';
import { PROVIDER_API_VERSIONS, type ProviderApiVersion } from '../kubelet/api.ts';
import { encodeResponse } from '../kubelet/response.ts';
import { loadInvocationConfig, provideWithinDeadline, reportFailure, startInvocation } from './invocation.ts';
import { EXIT_OK, ProviderError } from '../errors.ts';

export interface GetCredentialsArgs {
  image: string;
  showPassword: boolean;
  apiVersion: string;
}

export async function runGetCredentials(flags: FlagValues, args: GetCredentialsArgs, writeStdout: (text: string) => Promise<void>): Promise<number> {
  const inv = startInvocation();
  try {
    const apiVersion = PROVIDER_API_VERSIONS.find((v) => v === args.apiVersion || v.endsWith(`/${args.apiVersion}`));
    if (!apiVersion) throw new ProviderError('input', `--api-version must be one of v1, v1beta1, v1alpha1`);
    const config = await loadInvocationConfig(inv, flags);
    const image = normalizeImage(args.image);
    const result = await provideWithinDeadline(inv, config, { apiVersion: apiVersion as ProviderApiVersion, image });
    const auth = result.auth && !args.showPassword ? redactPasswords(result.auth) : result.auth;
    const response = { apiVersion: apiVersion as ProviderApiVersion, cacheKeyType: result.cacheKeyType, cacheDurationMs: result.cacheDurationMs };
    const wire = encodeResponse(auth ? { ...response, auth } : response);
    await writeStdout(`${JSON.stringify(JSON.parse(wire), null, 2)}\n`);
    return EXIT_OK;
  } catch (error) {
    return reportFailure(inv, error);
  }
}

/** Drops a tag or digest, as the kubelet does before asking a plugin. */
export function normalizeImage(image: string): string {
  const trimmed = image.trim();
  if (!trimmed || /\s/.test(trimmed)) throw new ProviderError('input', 'IMAGE must be an image reference such as registry.cn-hangzhou.aliyuncs.com/ns/app:tag');
  const withoutDigest = trimmed.split('@')[0] ?? trimmed;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const lastColon = withoutDigest.lastIndexOf(':');
  return lastColon > lastSlash ? withoutDigest.slice(0, lastColon) : withoutDigest;
}

function redactPasswords(auth: Record<string, { username: string; password: string }>) {
  return Object.fromEntries(Object.entries(auth).map(([host, a]) => [host, { username: a.username, password: '<redacted: use --show-password>' }]));
}
