// `npm run demo`: the provider's main job with no cloud. Starts the emulators of the ECS metadata
// service and the CR API on 127.0.0.1, then runs the built provider exactly as the kubelet would
// (a new process, one request on stdin) for a Personal and an Enterprise Edition image, a repeat
// that is answered from the on-disk cache, and a host that is not ACR. Passwords are shortened
// in what is printed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulators } from '../emulators/index.ts';
import { kubeletRequest, runProvider, writeConfig } from '../helpers/run-provider.ts';

const emulators = await startEmulators();
const dir = mkdtempSync(join(tmpdir(), 'acr-provider-demo-'));
let failed = false;
try {
  const instance = emulators.state.addInstance({ regionId: 'cn-shanghai', instanceName: 'acme-prod' });
  const config = writeConfig(dir, emulators, { cacheDir: join(dir, 'cache'), logLevel: 'info' });
  console.log(`Emulators: metadata service ${emulators.imds.url} (node role "acr-node-role", hardened mode), CR API ${Object.keys(emulators.cr.endpoints()).length} regions`);
  console.log(`Enterprise Edition instance "${instance.instanceName}" (${instance.instanceId}) in cn-shanghai\n`);

  const cases: Array<[string, string, string]> = [
    ['Personal Edition (cn-hangzhou), kubelet apiVersion v1', 'registry.cn-hangzhou.aliyuncs.com/library/app', 'v1'],
    ['Enterprise Edition (cn-shanghai), apiVersion v1beta1', 'acme-prod-registry.cn-shanghai.cr.aliyuncs.com/team/api', 'v1beta1'],
    ['Same Enterprise registry, another image: served from the on-disk cache', 'acme-prod-registry.cn-shanghai.cr.aliyuncs.com/team/web', 'v1'],
    ['Not an ACR host (a look-alike): no credentials, no cloud call', 'registry.cn-hangzhou.aliyuncs.com.evil.example/x', 'v1'],
  ];
  for (const [title, image, apiVersion] of cases) {
    emulators.resetCalls();
    const result = await runProvider({ args: ['--config', config], stdin: kubeletRequest(image, apiVersion) });
    const calls = emulators.calls().map((c) => `${c.server}:${c.action ?? c.path}`);
    console.log(`## ${title}`);
    console.log(`$ echo '${kubeletRequest(image, apiVersion).trim()}' | aliyun-acr-credential-provider`);
    console.log(shortenPasswords(result.stdout).trimEnd() || '(no output)');
    console.log(`exit ${result.code}, ${Math.round(result.ms)} ms, cloud calls: ${calls.length ? calls.join(', ') : 'none'}`);
    if (result.stderr.trim()) console.log(`stderr: ${result.stderr.trim()}`);
    console.log('');
    if (result.code !== 0) failed = true;
  }
} finally {
  await emulators.close();
  rmSync(dir, { recursive: true, force: true });
}
if (failed) {
  console.error('demo: an invocation failed');
  process.exitCode = 1;
}

function shortenPasswords(stdout: string): string {
  return stdout.replace(/"password":"([^"]{6})[^"]*"/g, '"password":"$1…"');
}
