// The installer's DaemonSet (packaging/deploy/base) carries what the installer's safety relies on:
// a grace period that covers the health wait and a rollback, termination messages from the logs,
// the node name for the restart spread, and a memory limit set from the measured peak.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseGoDuration } from '../../src/kubelet/go-duration.ts';
import { REPO_ROOT } from './helpers.ts';
import { INSTALL_NODE_OPTIONS, INSTALLER_PEAK_MIB, SMOKE_PROVIDER_PEAK_MIB } from './rss-scenarios.ts';

type Obj = Record<string, any>;
const ds = parse(readFileSync(join(REPO_ROOT, 'packaging/deploy/base/daemonset.yaml'), 'utf8')) as Obj;
const pod = ds.spec.template.spec as Obj;
const install = pod.initContainers.find((c: Obj) => c.name === 'install') as Obj;
const flag = (name: string, fallback: string) => (install.args as string[]).find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;

const mebibytes = (q: string) => Number(/^(\d+)Mi$/.exec(q)?.[1] ?? NaN);

describe('the installer DaemonSet', () => {
  it('the grace period covers the health wait and a rollback (a restart and a second health wait)', () => {
    const healthSeconds = parseGoDuration(flag('health-timeout', '60s')) / 1000;
    assert.ok(pod.terminationGracePeriodSeconds >= 2 * healthSeconds + 20, `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} for a ${healthSeconds}s health wait`);
  });

  it('every container reports its failure from its logs', () => {
    for (const c of [...pod.initContainers, ...pod.containers]) assert.equal(c.terminationMessagePolicy, 'FallbackToLogsOnError', c.name);
  });

  it('install gets the node name for the restart spread', () => {
    const env = (install.env ?? []) as Obj[];
    assert.deepEqual(env.find((e) => e.name === 'NODE_NAME')?.valueFrom, { fieldRef: { fieldPath: 'spec.nodeName' } });
  });

  it('install runs with the small young generation the benchmark measures', () => {
    assert.equal((install.env as Obj[]).find((e) => e.name === 'NODE_OPTIONS')?.value, INSTALL_NODE_OPTIONS);
  });

  it("install's memory limit covers the installer's peak and the smoke test's provider together, with a tenth to spare", () => {
    // nsenter changes namespaces, not the cgroup: the provider the smoke test starts counts against
    // this container's limit while the installer waits for it.
    assert.ok(mebibytes(install.resources.limits.memory) >= Math.ceil((INSTALLER_PEAK_MIB + SMOKE_PROVIDER_PEAK_MIB) * 1.1), install.resources.limits.memory);
  });
});
