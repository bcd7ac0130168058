// The smoke test: the installed provider, run exactly as the kubelet will run it (its path in the
// kubelet's bin dir, the args of its CredentialProviderConfig entry, in the host's namespaces),
// must answer a CredentialProviderRequest for an image that is not ACR with the empty response,
// and `--version` must be the payload's version (the wrapper runs the new files). install runs it
// before anything of the kubelet changes; doctor runs it too. A failure keeps the provider's own
// words (the loader's "error while loading shared libraries…") and says what to do.
import { parseGoDuration } from '../kubelet/go-duration.ts';
import type { PluginRun, PluginRunner } from './host-system.ts';

/** Not ACR: the provider answers it from its config alone, without a cloud call or a token. */
export const SMOKE_IMAGE = 'docker.io/library/nginx';

export interface SmokeTarget {
  executable: string; // host path, as the kubelet runs it: <bin dir>/<provider name>
  candidate?: string; // a new wrapper beside it, run instead (and named as the executable in messages)
  args: string[]; // of the CredentialProviderConfig entry
  apiVersion: string; // of the entry: the request's and the response's
  version?: string; // the payload's; undefined: not checked
}

export function smokeRequest(apiVersion: string): string {
  return `${JSON.stringify({ kind: 'CredentialProviderRequest', apiVersion, image: SMOKE_IMAGE })}\n`;
}

/** undefined when the provider answered as it must; else one line saying what happened and what to do. */
export async function smokeTest(run: PluginRunner, target: SmokeTarget): Promise<string | undefined> {
  const path = target.candidate ?? target.executable;
  if (target.version !== undefined) {
    const v = await run(path, ['--version'], '');
    if (v.code !== 0) return failure(`${target.executable} --version`, v);
    if (v.stdout !== `${target.version}\n`) return `${target.executable} --version printed ${JSON.stringify(v.stdout.slice(0, 80))}, not the installed version ${target.version}: the wrapper does not run the installed files`;
  }
  const command = [target.executable, ...target.args].join(' ');
  const r = await run(path, target.args, smokeRequest(target.apiVersion));
  if (r.code !== 0) return failure(`${command} (a kubelet request for ${SMOKE_IMAGE})`, r);
  const wrong = responseProblem(r.stdout, target.apiVersion);
  return wrong === undefined ? undefined : `${command} answered a kubelet request for ${SMOKE_IMAGE} with ${JSON.stringify(r.stdout.slice(0, 200))}: ${wrong}`;
}

/** What is wrong with the answer, when it is not exactly the empty CredentialProviderResponse. */
export function responseProblem(stdout: string, apiVersion: string): string | undefined {
  if (!stdout.endsWith('\n') || stdout.indexOf('\n') !== stdout.length - 1) return 'expected one JSON line';
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(stdout) as Record<string, unknown>;
  } catch {
    return 'not JSON';
  }
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return 'not a JSON object';
  const keys = Object.keys(r).sort().join(',');
  if (keys !== 'apiVersion,cacheDuration,cacheKeyType,kind' && keys !== 'apiVersion,cacheKeyType,kind') return `fields ${keys}, expected kind, apiVersion, cacheKeyType and cacheDuration only (no auth)`;
  if (r['kind'] !== 'CredentialProviderResponse') return 'kind is not CredentialProviderResponse';
  if (r['apiVersion'] !== apiVersion) return `apiVersion is not the request's ${apiVersion}`;
  if (r['cacheKeyType'] !== 'Image') return 'cacheKeyType is not Image';
  if (r['cacheDuration'] !== undefined) {
    try {
      parseGoDuration(String(r['cacheDuration']));
    } catch {
      return 'cacheDuration is not a duration';
    }
  }
  return undefined;
}

function failure(command: string, r: PluginRun): string {
  const how = r.signal ? `was killed by ${r.signal}` : r.code === null ? 'could not be started' : `exited ${r.code}`;
  const said = r.stderr.trim().split('\n').map((l) => l.trim()).filter(Boolean).slice(-3).join(' | ').slice(0, 600);
  return `${command} ${how}${said ? `: ${said}` : ' and printed nothing on stderr'}; ${advice(r)}`;
}

function advice(r: PluginRun): string {
  const e = r.stderr;
  if (/error while loading shared libraries/.test(e)) return 'its payload directory lacks a library the binary needs: reinstall from an intact image';
  if (/Exec format error|cannot execute binary file/.test(e)) return "the payload is for another architecture than this node: deploy the image of the node's architecture";
  if (/Permission denied/.test(e)) return 'the node does not let it be executed there (a noexec mount, or SELinux/AppArmor): use a --bin-dir on a file system that allows executing files';
  if (r.code === 127 && /\/bin\/sh|not found|No such file/.test(e)) return "the node lacks what the wrapper needs (/bin/sh) or the installed files are gone: check the node's /bin/sh and re-run install";
  if (r.signal === 'SIGKILL' && !e) return 'it did not answer within a minute: check the node\'s load and memory';
  return "run the same command on the node to see more (echo the request into it), then re-run install";
}
