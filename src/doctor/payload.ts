// doctor's view of the installed provider as install left it: the executable in the kubelet's bin
// dir is the /bin/sh wrapper of a payload directory whose files still match the manifest
// installed with them (src/install/payload-dir.ts), and run exactly as the kubelet runs it (its
// path, the args and apiVersion of our CredentialProviderConfig entry, in the host's namespaces:
// through nsenter into PID 1 when --host-root is not /) it passes the installer's own smoke test.
import { join } from 'node:path';
import { HostFs } from '../install/host-fs.ts';
import { hostPluginRunner } from '../install/host-system.ts';
import { payloadProblem } from '../install/payload-dir.ts';
import { smokeTest } from '../install/smoke-test.ts';
import { wrappedInstallDir } from '../install/wrapper-file.ts';
import { PAYLOAD_MANIFEST } from '../payload/layout.ts';
import { parseManifest } from '../payload/manifest.ts';
import { describeError } from '../errors.ts';
import { PROGRAM_NAME } from '../version.ts';
import { discoverKubelet, hostPath, readCredentialProviderConfig } from './kubelet.ts';
import type { Check } from './report.ts';

const MAX_WRAPPER_BYTES = 64 * 1024;
const DEFAULT_API_VERSION = 'credentialprovider.kubelet.k8s.io/v1';

export async function payloadChecks(options: { hostRoot: string; providerName?: string }, add: (c: Check) => void): Promise<void> {
  const flags = discoverKubelet(options.hostRoot).flags;
  if (flags?.binDir === undefined) return; // kubelet.flags says what is missing
  const name = options.providerName ?? PROGRAM_NAME;
  const fs = new HostFs(options.hostRoot);
  const executable = join(flags.binDir, name);
  let wrapped: ReturnType<typeof wrappedInstallDir>;
  try {
    const st = fs.stat(executable);
    if (st === undefined || !st.isFile) return; // kubelet.binary says so
    wrapped = st.size <= MAX_WRAPPER_BYTES ? wrappedInstallDir(fs.readText(executable) ?? '') : undefined;
  } catch (error) {
    add({ id: 'kubelet.payload', status: 'fail', message: `${executable}: ${describeError(error)}` });
    return;
  }
  if (wrapped === undefined) {
    add({ id: 'kubelet.payload', status: 'warn', message: `${executable} is not the wrapper of a payload directory (a bare binary needs the node's glibc 2.28 or later): re-run install to put the self-contained payload there` });
    return;
  }
  let version: string | undefined;
  try {
    const problem = payloadProblem(fs, wrapped.installDir);
    if (problem !== undefined) {
      add({ id: 'kubelet.payload', status: 'fail', message: `${problem}: the installed payload is damaged; re-run install, which installs it again` });
      return;
    }
    const manifest = parseManifest(fs.readText(`${wrapped.installDir}/${PAYLOAD_MANIFEST}`) ?? '');
    version = manifest.version;
    add({ id: 'kubelet.payload', status: 'pass', message: `${executable} runs ${wrapped.installDir} (${manifest.version}, ${manifest.arch}): ${manifest.files.length} files match their manifest` });
  } catch (error) {
    add({ id: 'kubelet.payload', status: 'fail', message: `${wrapped.installDir}: ${describeError(error)}` });
    return;
  }
  const entry = flags.config === undefined ? undefined : (await readCredentialProviderConfig(hostPath(options.hostRoot, flags.config))).providers.find((p) => p.name === name);
  const target = { executable, args: entry?.args ?? [], apiVersion: entry?.apiVersion ?? DEFAULT_API_VERSION, version };
  const problem = await smokeTest(hostPluginRunner(options.hostRoot), target);
  const how = [executable, ...target.args].join(' ');
  add(problem === undefined ? { id: 'kubelet.smoke-test', status: 'pass', message: `${how} answers a kubelet request for an image that is not ACR as it must` } : { id: 'kubelet.smoke-test', status: 'fail', message: problem });
}
