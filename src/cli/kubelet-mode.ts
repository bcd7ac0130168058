// Kubelet mode: one CredentialProviderRequest on stdin, one CredentialProviderResponse of the
// same apiVersion on stdout, nothing else on stdout, exit 0. On failure: one line on stderr,
// non-zero exit, stdout untouched. Its streams are given to it (as the AWS plugin's
// runPlugin(io.Reader, io.Writer)): main.ts passes the process's own, tests and the pre-warm
// suite their own, in process.
import type { FlagValues } from '../config/resolve.ts';
import { decodeRequest, MAX_REQUEST_BYTES } from '../kubelet/request.ts';
import { encodeResponse } from '../kubelet/response.ts';
import { EXIT_OK } from '../errors.ts';
import { invocationDeadline, loadInvocationConfig, provideWithinDeadline, reportFailure, startInvocation, type InvocationContext } from './invocation.ts';
import type { RequestReader } from './stdin.ts';

export interface PluginIo extends InvocationContext {
  /** The request: readStdin (the process's fd 0), or streamReader(any stream). */
  stdin: RequestReader;
  /** Receives the whole response, once, and nothing else. */
  stdout: (text: string) => Promise<void>;
}

export async function runKubeletMode(flags: FlagValues, io: PluginIo): Promise<number> {
  const inv = startInvocation(io);
  try {
    const config = await loadInvocationConfig(inv, flags);
    // Reading stdin draws from the same deadline as everything else.
    const request = decodeRequest(await io.stdin(MAX_REQUEST_BYTES, { remainingMs: invocationDeadline(inv, config).remainingMs(), timeoutMs: config.timeoutMs }));
    const result = await provideWithinDeadline(inv, config, request);
    const response = { apiVersion: request.apiVersion, cacheKeyType: result.cacheKeyType, cacheDurationMs: result.cacheDurationMs };
    await io.stdout(encodeResponse(result.auth ? { ...response, auth: result.auth } : response));
    return EXIT_OK;
  } catch (error) {
    return reportFailure(inv, error);
  }
}
