// The node's service manager and kubelet, behind an interface so tests can script them.
// Real: the pod runs with hostPID, so `nsenter --target 1` enters the host's namespaces and
// runs the host's own systemctl and kubelet binaries; health is the kubelet's healthz endpoint
// (127.0.0.1 is the node's loopback only with hostNetwork: true).
// Fake (tests only, `--host-system fake:<state-file>`): a JSON file holding the answers
// (kubeletVersion, healthy: boolean or a list consumed one per call) where calls are recorded.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { InstallError } from './errors.ts';

export interface HostSystem {
  /** Raw output of `<binary> --version` (kubelet, k3s or rke2). */
  kubeletVersion(binary: string): Promise<string>;
  daemonReload(): Promise<void>;
  restart(unit: string): Promise<void>;
  healthy(): Promise<boolean>;
}

const NSENTER = ['--target', '1', '--mount', '--uts', '--ipc', '--net', '--pid', '--'];

function run(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new InstallError(`${args.slice(NSENTER.length).join(' ')} failed: ${(stderr || error.message).trim().split('\n')[0]}`));
      else resolve(stdout);
    });
  });
}

export function realHostSystem(healthzUrl: string): HostSystem {
  const host = (args: string[], timeoutMs = 120_000) => run('nsenter', [...NSENTER, ...args], timeoutMs);
  return {
    kubeletVersion: (binary) => host([binary, '--version'], 30_000),
    daemonReload: async () => {
      await host(['systemctl', 'daemon-reload']);
    },
    restart: async (unit) => {
      await host(['systemctl', 'restart', unit]);
    },
    healthy: () => httpOk(healthzUrl),
  };
}

function httpOk(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export interface FakeState {
  kubeletVersion?: string;
  healthy?: boolean | boolean[];
  restarts?: string[];
  daemonReloads?: number;
  versionCalls?: string[];
}

export function fakeHostSystem(stateFile: string): HostSystem {
  const load = (): FakeState => JSON.parse(readFileSync(stateFile, 'utf8')) as FakeState;
  const save = (s: FakeState) => writeFileSync(stateFile, `${JSON.stringify(s, null, 2)}\n`);
  return {
    kubeletVersion: async (binary) => {
      const s = load();
      save({ ...s, versionCalls: [...(s.versionCalls ?? []), binary] });
      return s.kubeletVersion ?? 'Kubernetes v1.30.2';
    },
    daemonReload: async () => {
      const s = load();
      save({ ...s, daemonReloads: (s.daemonReloads ?? 0) + 1 });
    },
    restart: async (unit) => {
      const s = load();
      save({ ...s, restarts: [...(s.restarts ?? []), unit] });
    },
    healthy: async () => {
      const s = load();
      if (Array.isArray(s.healthy)) {
        const [next, ...rest] = s.healthy;
        save({ ...s, healthy: rest.length > 0 ? rest : [next ?? true] });
        return next ?? true;
      }
      return s.healthy ?? true;
    },
  };
}

/** `real` (default) or `fake:<state-file>` (tests only). */
export function hostSystemFromSpec(spec: string | undefined, healthzUrl: string): HostSystem {
  if (spec === undefined || spec === 'real') return realHostSystem(healthzUrl);
  if (spec.startsWith('fake:')) return fakeHostSystem(spec.slice(5));
  throw new InstallError(`--host-system must be "real" or "fake:<state-file>"`, { usage: true });
}
