// Kubelet mode: one CredentialProviderRequest on stdin, one CredentialProviderResponse of the
// same apiVersion on stdout, nothing else on stdout, exit 0. On failure: one line on stderr,
// non-zero exit, stdout untouched.
import type { FlagValues } from '../config/resolve.ts';
import { decodeRequest, MAX_REQUEST_BYTES } from '../kubelet/request.ts';
import { encodeResponse } from '../kubelet/response.ts';
import { EXIT_OK } from '../errors.ts';
import { invocationDeadline, loadInvocationConfig, provideWithinDeadline, reportFailure, startInvocation } from './invocation.ts';
import { readStdin } from './stdin.ts';

export async function runKubeletMode(flags: FlagValues, writeStdout: (text: string) => Promise<void>): Promise<number> {
  const inv = startInvocation();
  try {
    const config = await loadInvocationConfig(inv, flags);
    // Reading stdin draws from the same deadline as everything else.
    const request = decodeRequest(await readStdin(MAX_REQUEST_BYTES, { remainingMs: invocationDeadline(inv, config).remainingMs(), timeoutMs: config.timeoutMs }));
    const result = await provideWithinDeadline(inv, config, request);
    const response = { apiVersion: request.apiVersion, cacheKeyType: result.cacheKeyType, cacheDurationMs: result.cacheDurationMs };
    await writeStdout(encodeResponse(result.auth ? { ...response, auth: result.auth } : response));
    return EXIT_OK;
  } catch (error) {
    return reportFailure(inv, error);
  }
}
