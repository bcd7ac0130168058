// The Kubernetes manifests (packaging/deploy) as `kubectl apply -k` would send them: every
// overlay rendered by real kustomize (kubectl 1.20's embedded v2.0 from Debian's
// kubernetes-client, and any other kubectl on PATH, which must render the same objects),
// every object validated against the Kubernetes OpenAPI schemas (kubernetes-models), and the
// properties the design relies on checked one by one.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { parseAllDocuments } from 'yaml';
import { readConfigFile } from '../../src/config/load.ts';
import { DEFAULT_CACHE_DIR } from '../../src/config/resolve.ts';
import { STATE_DIR } from '../../src/install/paths.ts';
import { REPO_ROOT } from '../helpers/run-provider.ts';

const DEPLOY = join(REPO_ROOT, 'packaging', 'deploy');
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const NAMESPACE = 'aliyun-acr-credential-provider';
const OVERLAYS = ['kubeadm', 'k3s', 'ack'] as const;
const CONFIG_MOUNT = '/etc/aliyun-acr-credential-provider';
const NODE_CONFIG_DIR = '/etc/kubernetes/aliyun-acr-credential-provider';
const CACHE_DIR = DEFAULT_CACHE_DIR;

/** Debian's kubectl 1.20 unpacked by .ci/run (it would conflict with another kubectl package). */
const DEBIAN_KUBECTL = join(REPO_ROOT, '.cache', 'kubernetes-client', 'usr', 'bin', 'kubectl');

function kubectls(): string[] {
  const found: string[] = [];
  if (existsSync(DEBIAN_KUBECTL)) found.push(DEBIAN_KUBECTL);
  const onPath = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).stdout.trim();
  if (onPath && !found.some((k) => realpathSync(k) === realpathSync(onPath))) found.push(onPath);
  return found;
}
const KUBECTLS = kubectls();
const noKustomize = KUBECTLS.length === 0 ? 'no kubectl: .ci/run unpacks Debian kubernetes-client into .cache/kubernetes-client' : undefined;

type Obj = Record<string, any>;

function render(kubectl: string, dir: string): Obj[] {
  const r = spawnSync(kubectl, ['kustomize', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${kubectl} kustomize ${dir}: ${r.stderr}`);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj).filter((o) => o !== null);
}

/** Renders with every kubectl found; they must agree. */
function renderAll(dir: string): Obj[] {
  const [first, ...rest] = KUBECTLS.map((k) => ({ k, objs: render(k, dir) }));
  assert.ok(first);
  for (const other of rest) assert.deepEqual(other.objs, first.objs, `${other.k} and ${first.k} render ${dir} differently`);
  return first.objs;
}

function validate(o: Obj): void {
  const models: Record<string, new (data: any) => { validate(): void }> = { 'apps/v1/DaemonSet': DaemonSet, 'v1/ConfigMap': ConfigMap, 'v1/Namespace': Namespace, 'v1/ServiceAccount': ServiceAccount };
  const Model = models[`${o.apiVersion}/${o.kind}`];
  assert.ok(Model, `unexpected object ${o.apiVersion} ${o.kind}`);
  new Model(o).validate();
}

const byKind = (objs: Obj[], kind: string): Obj[] => objs.filter((o) => o.kind === kind);
function daemonSet(objs: Obj[]): Obj {
  const list = byKind(objs, 'DaemonSet');
  assert.equal(list.length, 1, 'one DaemonSet');
  return list[0]!;
}
const containersOf = (pod: Obj): Obj[] => [...(pod.initContainers ?? []), ...(pod.containers ?? [])];

describe('Kubernetes manifests', { skip: noKustomize }, () => {
  it('kustomize is the real thing (diagnostic)', (t) => {
    for (const k of KUBECTLS) t.diagnostic(`${k}: ${spawnSync(k, ['version', '--client'], { encoding: 'utf8' }).stdout.trim().split('\n')[0]}`);
    assert.ok(KUBECTLS.length >= 1);
  });

  for (const overlay of ['base', ...OVERLAYS]) {
    const dir = overlay === 'base' ? join(DEPLOY, 'base') : join(DEPLOY, 'overlays', overlay);

    describe(overlay, () => {
      const objs = noKustomize ? [] : renderAll(dir);

      it('renders exactly a Namespace, a ServiceAccount, the ConfigMap and the DaemonSet, all in the namespace, all schema-valid', () => {
        assert.deepEqual(objs.map((o) => o.kind).sort(), ['ConfigMap', 'DaemonSet', 'Namespace', 'ServiceAccount']);
        for (const o of objs) {
          validate(o);
          if (o.kind === 'Namespace') assert.equal(o.metadata.name, NAMESPACE);
          else assert.equal(o.metadata.namespace, NAMESPACE, `${o.kind} ${o.metadata.name}`);
        }
        // No Secret, no RBAC: the installer needs no API access.
        assert.ok(!objs.some((o) => /Secret|Role|Binding/.test(o.kind)));
      });

      it('ServiceAccount and pod mount no API token', () => {
        const [sa] = byKind(objs, 'ServiceAccount');
        assert.equal(sa?.automountServiceAccountToken, false);
        const pod = daemonSet(objs).spec.template.spec;
        assert.equal(pod.serviceAccountName, sa?.metadata.name);
        assert.equal(pod.automountServiceAccountToken, false);
      });

      it('DaemonSet scheduling: node-critical, every taint tolerated, Linux amd64/arm64 only, never virtual nodes', () => {
        const ds = daemonSet(objs);
        assert.deepEqual(ds.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } });
        const pod = ds.spec.template.spec;
        assert.equal(pod.priorityClassName, 'system-node-critical');
        assert.deepEqual(pod.tolerations, [{ operator: 'Exists' }]);
        assert.equal(pod.nodeSelector, undefined);
        const terms = pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
        assert.equal(terms.length, 1, 'one term: its expressions are ANDed');
        const exprs = Object.fromEntries(terms[0].matchExpressions.map((e: Obj) => [e.key, { operator: e.operator, values: [...e.values].sort() }]));
        assert.deepEqual(exprs, {
          'kubernetes.io/os': { operator: 'In', values: ['linux'] },
          'kubernetes.io/arch': { operator: 'In', values: ['amd64', 'arm64'] },
          type: { operator: 'NotIn', values: ['virtual-kubelet'] },
        });
        assert.equal(pod.hostPID, true, 'nsenter into PID 1 needs the host PID namespace');
        assert.equal(pod.hostNetwork, true, 'the kubelet health check is on 127.0.0.1:10248');
        assert.equal(pod.dnsPolicy, 'ClusterFirstWithHostNet');
        assert.equal(pod.hostIPC, undefined);
      });

      it('images are pinned to the package version, pulled IfNotPresent', () => {
        for (const c of containersOf(daemonSet(objs).spec.template.spec)) {
          const m = /^(.+):([^:/@]+)$/.exec(c.image);
          assert.ok(m, `${c.name}: image ${c.image} has no tag`);
          assert.notEqual(m[2], 'latest');
          assert.equal(m[2], VERSION, `${c.name}: tag must be the package version`);
          assert.equal(c.imagePullPolicy, 'IfNotPresent');
        }
      });

      it('every container has requests and limits for cpu and memory', () => {
        for (const c of containersOf(daemonSet(objs).spec.template.spec)) {
          for (const k of ['requests', 'limits']) for (const r of ['cpu', 'memory']) assert.ok(c.resources?.[k]?.[r], `${c.name}: resources.${k}.${r}`);
        }
      });

      it('only the install init container is privileged; sync-config and prewarm run as root with no capability and a read-only root', () => {
        const pod = daemonSet(objs).spec.template.spec;
        assert.deepEqual(pod.initContainers.map((c: Obj) => c.name), ['install']);
        assert.deepEqual(pod.containers.map((c: Obj) => c.name), ['sync-config', 'prewarm']);
        const privileged = containersOf(pod).filter((c) => c.securityContext?.privileged === true).map((c) => c.name);
        assert.deepEqual(privileged, ['install']);
        for (const c of pod.containers) {
          assert.equal(c.securityContext.runAsUser, 0, `${c.name}: the files it writes must be root's`);
          assert.equal(c.securityContext.privileged, false);
          assert.equal(c.securityContext.allowPrivilegeEscalation, false);
          assert.equal(c.securityContext.readOnlyRootFilesystem, true);
          assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'] });
          assert.equal(c.securityContext.seccompProfile?.type, 'RuntimeDefault');
        }
        assert.equal(pod.securityContext?.privileged, undefined);
      });

      it('hostPath mounts: the host root only in install, the provider config directory writable only in sync-config, the token cache only in prewarm, the ConfigMap read-only', () => {
        const pod = daemonSet(objs).spec.template.spec;
        const volumes = Object.fromEntries(pod.volumes.map((v: Obj) => [v.name, v]));
        const hostPaths = pod.volumes.filter((v: Obj) => v.hostPath).map((v: Obj) => `${v.hostPath.path} (${v.hostPath.type})`).sort();
        assert.deepEqual(hostPaths, ['/ (Directory)', `${NODE_CONFIG_DIR} (DirectoryOrCreate)`, `${CACHE_DIR} (DirectoryOrCreate)`]);
        const mounts = (c: Obj): string[] =>
          c.volumeMounts.map((m: Obj) => {
            const v = volumes[m.name];
            assert.ok(v, `${c.name} mounts unknown volume ${m.name}`);
            const source = v.hostPath ? `host:${v.hostPath.path}` : v.configMap ? `configMap:${v.configMap.name}` : v.emptyDir ? 'emptyDir' : 'other';
            return `${source} -> ${m.mountPath}${m.readOnly ? ' ro' : ''}`;
          }).sort();
        const [cm] = byKind(objs, 'ConfigMap');
        assert.deepEqual(mounts(pod.initContainers[0]), [`configMap:${cm?.metadata.name} -> ${CONFIG_MOUNT} ro`, 'host:/ -> /host']);
        assert.deepEqual(mounts(pod.containers[0]), [`configMap:${cm?.metadata.name} -> ${CONFIG_MOUNT} ro`, `host:${NODE_CONFIG_DIR} -> /host${NODE_CONFIG_DIR}`]);
        // The cache at the provider's own path (the default cacheDir), the installer's journal in it
        // hidden behind an empty directory, the config it reads read-only.
        assert.deepEqual(mounts(pod.containers[1]), [`emptyDir -> ${CACHE_DIR}/installer ro`, `host:${NODE_CONFIG_DIR} -> /host${NODE_CONFIG_DIR} ro`, `host:${CACHE_DIR} -> ${CACHE_DIR}`]);
        assert.equal(`${CACHE_DIR}/installer`, STATE_DIR, 'the mask covers the installer state');
        // A subPath mount would never see ConfigMap edits.
        for (const c of containersOf(pod)) for (const m of c.volumeMounts) assert.equal(m.subPath, undefined);
      });

      it('prewarm reads the node config sync-config keeps, with the node name for its jitter', () => {
        const prewarm = daemonSet(objs).spec.template.spec.containers[1];
        assert.deepEqual(prewarm.args, ['prewarm', `--config=/host${NODE_CONFIG_DIR}/config.json`]);
        assert.deepEqual(prewarm.env, [
          { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'NODE_OPTIONS', value: '--max-semi-space-size=1' },
        ]);
      });

      it('install and sync-config read the mounted ConfigMap; the overlay picks the layout and lets install add the kubelet flags', () => {
        const pod = daemonSet(objs).spec.template.spec;
        const install: string[] = pod.initContainers[0].args;
        const sync: string[] = pod.containers[0].args;
        assert.equal(install[0], 'install');
        assert.equal(sync[0], 'sync-config');
        for (const args of [install, sync]) {
          assert.ok(args.includes('--host-root=/host'));
          assert.ok(args.includes(`--provider-config=${CONFIG_MOUNT}/config.yaml`));
        }
        if (overlay === 'base') {
          assert.ok(!install.some((a) => a.startsWith('--layout')), 'base: the layout is detected');
          assert.ok(!install.includes('--configure-kubelet'));
        } else {
          assert.ok(install.includes(`--layout=${overlay}`), install.join(' '));
          assert.ok(install.includes('--configure-kubelet'));
        }
        assert.ok(!install.includes('--dry-run') && !sync.includes('--dry-run'));
      });

      it('the ConfigMap holds a provider config the provider accepts, with expiringThreshold 15m', async () => {
        const [cm] = byKind(objs, 'ConfigMap');
        assert.deepEqual(Object.keys(cm?.data ?? {}), ['config.yaml']);
        const text: string = cm?.data['config.yaml'];
        assert.match(text, /^# registries:$/m, 'a commented registries example');
        const dir = mkdtempSync(join(tmpdir(), 'acr-cm-'));
        try {
          writeFileSync(join(dir, 'config.yaml'), text);
          const config = (await readConfigFile(join(dir, 'config.yaml'))) as Obj;
          assert.equal(config.expiringThreshold, '15m');
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    });
  }
});
