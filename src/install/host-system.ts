// The node's service manager and kubelet. The pod runs with hostPID, so `nsenter --target 1`
// enters the host's namespaces and runs the host's own systemctl and kubelet binaries, and the
// installed provider exactly as the kubelet will run it (runPlugin); health is the kubelet's
// healthz endpoint (127.0.0.1 is the node's loopback only with hostNetwork: true). Tests put a
// fake `nsenter` first on PATH (it runs the provider with chroot into the host tree) and serve
// healthz themselves; in-process tests give the installer their own HostSystem object.
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { request } from 'node:http';
import { ProviderError } from '../errors.ts';

export interface HostSystem {
  /** Raw output of `<binary> --version` (kubelet, k3s or rke2). */
  kubeletVersion(binary: string): Promise<string>;
  daemonReload(): Promise<void>;
  restart(unit: string): Promise<void>;
  healthy(): Promise<boolean>;
  /** Runs a host executable as the kubelet runs a credential provider plugin. */
  runPlugin: PluginRunner;
}

export interface PluginRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `path args` with `stdin` on it, as the kubelet would: host paths, the host's namespaces. */
export type PluginRunner = (path: string, args: string[], stdin: string) => Promise<PluginRun>;

// systemd's default PATH, which the kubelet's environment has: the provider gets no variable of
// this pod (NODE_OPTIONS among them), as it gets none of it from the kubelet.
const HOST_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
const PLUGIN_TIMEOUT_MS = 60_000; // the kubelet's own exec timeout is 1 minute
const MAX_OUTPUT = 64 * 1024;

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
    runPlugin: (path, args, stdin) => runWithInput(onPath('nsenter'), [...NSENTER, path, ...args], stdin),
  };
}

/**
 * How to run a plugin on the host mounted at `hostRoot`: directly when that is this process's
 * own root (doctor on the node), else in PID 1's namespaces through nsenter (a pod with hostPID).
 */
export function hostPluginRunner(hostRoot: string): PluginRunner {
  if (hostRoot !== '/') return realHostSystem('').runPlugin;
  return (path, args, stdin) => runWithInput(path, args, stdin);
}

/** `command` as this process's PATH finds it (the plugin's own environment has another PATH). */
function onPath(command: string): string {
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    try {
      accessSync(`${dir}/${command}`, constants.X_OK);
      return `${dir}/${command}`;
    } catch {
      // not there
    }
  }
  return command;
}

function runWithInput(file: string, args: string[], stdin: string): Promise<PluginRun> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { env: HOST_ENV, cwd: '/', stdio: ['pipe', 'pipe', 'pipe'], timeout: PLUGIN_TIMEOUT_MS, killSignal: 'SIGKILL' });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const capped = (chunks: Buffer[]) => (c: Buffer) => {
      if (chunks.reduce((n, b) => n + b.length, 0) < MAX_OUTPUT) chunks.push(c);
    };
    child.stdout.on('data', capped(out));
    child.stderr.on('data', capped(err));
    child.stdin.on('error', () => undefined); // it may exit without reading
    child.on('error', (error) => resolve({ code: null, signal: null, stdout: '', stderr: `cannot run ${file}: ${error.message}` }));
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.end(stdin);
  });
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
