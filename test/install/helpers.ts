// Fake host trees for installer tests: a temp dir standing for the node's root (with a static
// busybox as its /bin/sh, as every node has a shell), a snapshot of everything in it (type, mode,
// bytes, link targets) to prove byte-identical restores, and a HostSystem for in-process tests
// that scripts systemctl and healthz and runs the installed provider with chroot into the tree
// (black-box tests use fake-node.ts instead).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProviderError } from '../../src/errors.ts';
import { HostFs } from '../../src/install/host-fs.ts';
import type { HostSystem, PluginRun } from '../../src/install/host-system.ts';
import type { RunContext } from '../../src/install/install.ts';
import { NODE_PROVIDER_CONFIG } from '../../src/install/paths.ts';
import type { InstallInputs } from '../../src/install/plan.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BUNDLE = join(REPO_ROOT, 'dist', 'aliyun-acr-credential-provider.cjs');

export type TreeSpec = Record<string, string | { content: string; mode?: number } | { symlink: string }>;

const made: string[] = [];

export function tempDir(prefix = 'acr-install-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function cleanup(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Debian's busybox-static (.ci/run installs it): the node's /bin/sh in host trees. */
export const STATIC_SHELL = '/bin/busybox';
let shellCopy: string | undefined;

/** Puts the static shell at <root>/bin/sh (hard-linked from one copy per test process). */
export function addShell(root: string): void {
  if (shellCopy === undefined || !existsSync(shellCopy)) {
    shellCopy = join(tempDir('acr-shell-'), 'busybox');
    copyFileSync(STATIC_SHELL, shellCopy);
    chmodSync(shellCopy, 0o755);
  }
  mkdirp(root, '/bin');
  linkSync(shellCopy, join(root, '/bin/sh'));
}

/** A host root with these files (host paths) and a static /bin/sh; directories are 0755. */
export function makeHost(spec: TreeSpec): string {
  const root = tempDir('acr-host-');
  chmodSync(root, 0o755);
  writeTree(root, spec);
  if (!('/bin/sh' in spec)) addShell(root);
  return root;
}

export function writeTree(root: string, spec: TreeSpec): void {
  for (const [path, value] of Object.entries(spec)) {
    const full = join(root, path);
    mkdirp(root, dirname(path));
    if (typeof value === 'string') writeFileSync(full, value, { mode: 0o644 });
    else if ('symlink' in value) symlinkSync(value.symlink, full);
    else {
      writeFileSync(full, value.content);
      chmodSync(full, value.mode ?? 0o644);
    }
  }
}

function mkdirp(root: string, hostDir: string): void {
  let current = root;
  for (const part of hostDir.split('/').filter((p) => p !== '')) {
    current = join(current, part);
    try {
      lstatSync(current);
    } catch {
      mkdirSync(current);
      chmodSync(current, 0o755);
    }
  }
}

export type Snapshot = Record<string, string>;

/** Every entry under root: "dir 755", "file 644 <base64>" (sha256 past 64 KiB), "link <target>", "fifo 644". */
export function snapshot(root: string): Snapshot {
  const out: Snapshot = {};
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const path = `${rel}/${name}`;
      const st = lstatSync(full);
      if (st.isSymbolicLink()) out[path] = `link ${readlinkSync(full)}`;
      else if (st.isFIFO()) out[path] = `fifo ${(st.mode & 0o7777).toString(8)}`;
      else if (st.isDirectory()) {
        out[path] = `dir ${(st.mode & 0o7777).toString(8)}`;
        walk(full, path);
      } else {
        const content = readFileSync(full);
        out[path] = `file ${(st.mode & 0o7777).toString(8)} ${content.length > 65536 ? `sha256:${createHash('sha256').update(content).digest('hex')}` : content.toString('base64')}`;
      }
    }
  };
  walk(root, '');
  return out;
}

export function readHost(root: string, path: string): string {
  return readFileSync(join(root, path), 'utf8');
}

export function modeOf(root: string, path: string): number {
  return lstatSync(join(root, path)).mode & 0o7777;
}

export interface FakeState {
  kubeletVersion?: string;
  healthy?: boolean | boolean[]; // a list is consumed one answer per healthz call
  restarts?: string[];
  daemonReloads?: number;
  versionCalls?: string[];
  /** Every plugin run (the smoke test), in order. */
  pluginCalls?: { path: string; args: string[]; stdin: string }[];
  /** Answers plugin runs instead of chroot into the host tree. */
  plugin?: (path: string, args: string[], stdin: string) => Promise<PluginRun>;
}

/** The host's systemctl, `kubelet --version` and healthz, scripted by `state`, calls recorded in it. */
export class FakeHost implements HostSystem {
  readonly state: FakeState;
  /** The host tree plugins run in (set by context()). */
  root: string | undefined;
  constructor(state: FakeState) {
    this.state = { ...state };
  }
  runPlugin = async (path: string, args: string[], stdin: string): Promise<PluginRun> => {
    this.state.pluginCalls = [...(this.state.pluginCalls ?? []), { path, args, stdin }];
    if (this.state.plugin) return this.state.plugin(path, args, stdin);
    if (this.root === undefined) throw new Error('FakeHost.runPlugin: no host root (use context())');
    return runInChroot(this.root, path, args, stdin);
  };
  async kubeletVersion(binary: string): Promise<string> {
    this.state.versionCalls = [...(this.state.versionCalls ?? []), binary];
    return this.state.kubeletVersion ?? 'Kubernetes v1.30.2';
  }
  async daemonReload(): Promise<void> {
    this.state.daemonReloads = (this.state.daemonReloads ?? 0) + 1;
  }
  async restart(unit: string): Promise<void> {
    this.state.restarts = [...(this.state.restarts ?? []), unit];
  }
  async healthy(): Promise<boolean> {
    const h = this.state.healthy;
    if (!Array.isArray(h)) return h ?? true;
    const [next, ...rest] = h;
    this.state.healthy = rest.length > 0 ? rest : [next ?? true];
    return next ?? true;
  }
}

/** `chroot <root> <path> <args>` with `stdin`, as the kubelet would run it on that node (a plain PATH). */
export function runInChroot(root: string, path: string, args: string[], stdin: string): Promise<PluginRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('chroot', [root, path, ...args], { env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' }, stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.stdin.on('error', () => undefined);
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

export function fakeState(state: FakeState): FakeHost {
  return new FakeHost(state);
}

export function readState(host: FakeHost): FakeState {
  return host.state;
}

export function writeFile(content: string, name = 'config.yaml'): string {
  const path = join(tempDir('acr-src-'), name);
  writeFileSync(path, content);
  return path;
}

export interface Captured {
  ctx: RunContext;
  logs: string[];
  stdout: string[];
}

export function context(root: string, host: FakeHost, options: { dryRun?: boolean } = {}): Captured {
  host.root = root;
  const logs: string[] = [];
  const stdout: string[] = [];
  return {
    ctx: {
      fs: new HostFs(root),
      host,
      health: { timeoutMs: 50, intervalMs: 5 },
      dryRun: options.dryRun ?? false,
      log: (level, line) => logs.push(`${level}: ${line}`),
      out: async (text) => {
        stdout.push(text);
      },
    },
    logs,
    stdout,
  };
}

export function inputs(payload: string, extra: Partial<InstallInputs> = {}): InstallInputs {
  return { payload, nodeProviderConfig: NODE_PROVIDER_CONFIG, configureKubelet: true, ...extra };
}

// ---- node layouts ---------------------------------------------------------------------------

export const KUBELET_UNIT_FILE = `[Unit]
Description=kubelet: The Kubernetes Node Agent

[Service]
ExecStart=/usr/bin/kubelet
Restart=always

[Install]
WantedBy=multi-user.target
`;

export function kubeadmDropIn(envFile: string): string {
  return `# Note: This dropin only works with kubeadm and kubelet v1.11+
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
# This is a file that "kubeadm init" and "kubeadm join" generates at runtime, populating the KUBELET_KUBEADM_ARGS variable dynamically
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
# This is a file that the user can use for overrides of the kubelet args as a last resort.
EnvironmentFile=-${envFile}
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
`;
}

export const KUBEADM_FLAGS = 'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.9"\n';

export function kubeadmDebian(extra: TreeSpec = {}): TreeSpec {
  return {
    '/lib/systemd/system/kubelet.service': KUBELET_UNIT_FILE,
    '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf': kubeadmDropIn('/etc/default/kubelet'),
    '/var/lib/kubelet/kubeadm-flags.env': KUBEADM_FLAGS,
    '/etc/default/kubelet': 'KUBELET_EXTRA_ARGS=\n',
    ...extra,
  };
}

export function kubeadmRpm(extra: TreeSpec = {}): TreeSpec {
  return {
    '/usr/lib/systemd/system/kubelet.service': KUBELET_UNIT_FILE,
    '/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf': kubeadmDropIn('/etc/sysconfig/kubelet'),
    '/var/lib/kubelet/kubeadm-flags.env': KUBEADM_FLAGS,
    '/etc/sysconfig/.keep': '',
    ...extra,
  };
}

export const ACK_ARGS = 'KUBELET_CUSTOMIZED_ARGS=" --eviction-hard=imagefs.available<15%,memory.available<300Mi --system-reserved=cpu=50m,memory=1272Mi "\n';

export function ackNode(extra: TreeSpec = {}): TreeSpec {
  return {
    '/etc/systemd/system/kubelet.service': KUBELET_UNIT_FILE,
    '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf': `[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/etc/kubernetes/kubelet-customized-args.conf
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_CUSTOMIZED_ARGS
`,
    '/etc/kubernetes/kubelet-customized-args.conf': ACK_ARGS,
    ...extra,
  };
}

export function k3sNode(unit = 'k3s.service', exec = '/usr/local/bin/k3s server'): TreeSpec {
  return {
    [`/etc/systemd/system/${unit}`]: `[Unit]\nDescription=Lightweight Kubernetes\n\n[Service]\nType=notify\nExecStart=${exec}\n`,
    [`/etc/systemd/system/multi-user.target.wants/${unit}`]: { symlink: `/etc/systemd/system/${unit}` },
  };
}

export function systemdWithVar(): TreeSpec {
  return {
    '/etc/systemd/system/kubelet.service': `[Unit]
Description=Kubernetes Kubelet

[Service]
Environment="KUBELET_ARGS=--v=2 --node-labels=a=b"
ExecStart=/usr/local/bin/kubelet --config=/var/lib/kubelet/config.yaml $KUBELET_ARGS
Restart=on-failure
`,
  };
}

export function systemdNoVar(): TreeSpec {
  return {
    '/etc/systemd/system/kubelet.service': `[Unit]
Description=Kubernetes Kubelet

[Service]
ExecStart=/usr/local/bin/kubelet \\
  --config=/var/lib/kubelet/config.yaml \\
  --v=2
Restart=on-failure
`,
  };
}

/** The installer's failure: a ProviderError whose message matches and is one line (as the CLI prints it). */
export async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ProviderError, String(error));
    assert.match(error.message, pattern);
    assert.ok(!error.message.includes('\n'), 'one line');
    return error;
  }
  assert.fail('expected a rejection');
}
