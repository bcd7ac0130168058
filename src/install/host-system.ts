// The node's service manager and kubelet. The pod runs with hostPID, so `nsenter --target 1`
// enters the host's namespaces and runs the host's own systemctl and kubelet binaries; health is
// the kubelet's healthz endpoint (127.0.0.1 is the node's loopback only with hostNetwork: true).
// Tests put a fake `nsenter` first on PATH and serve healthz themselves; in-process tests give
// the installer their own HostSystem object.
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { ProviderError } from '../errors.ts';

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
      if (error) reject(new ProviderError('install', `${args.slice(NSENTER.length).join(' ')} failed: ${(stderr || error.message).trim().split('\n')[0]}`));
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
