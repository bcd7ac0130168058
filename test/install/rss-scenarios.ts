// Peak memory of `install` on the three host trees every node goes through: fresh (first
// install), installed (every pod restart: same binary) and upgraded (a new binary over the old
// one). Shared by test/install/memory.test.ts (the limit) and test/bench/installer.ts (the
// numbers). Peak RSS is the kernel's ru_maxrss of the child, from GNU time's %M.
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { kubeadmDebian, makeHost, tempDir } from './helpers.ts';
import type { FakeNode } from './fake-node.ts';

export const SCENARIOS = ['fresh', 'installed', 'upgraded'] as const;

/** What the DaemonSet's install container sets (test/install/deploy.test.ts checks it does). */
export const INSTALL_NODE_OPTIONS = '--max-semi-space-size=1';
export type Scenario = (typeof SCENARIOS)[number];

/** A stand-in binary of `mib` MiB; `variant` changes its bytes (an upgrade). */
export function largeFile(mib: number, variant: number): string {
  const path = join(tempDir('acr-big-'), 'aliyun-acr-credential-provider');
  const chunk = Buffer.alloc(1024 * 1024, `provider build ${variant} `);
  const fd = openSync(path, 'w', 0o755);
  try {
    for (let i = 0; i < mib; i++) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
  return path;
}

/** Peak RSS in KiB of one run of `cmd`, which must exit 0. */
export function peakRssKib(cmd: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'PEAK_RSS_KIB=%M', ...cmd], { stdio: ['ignore', 'ignore', 'pipe'], env });
    let err = '';
    child.stderr.on('data', (d) => (err += String(d)));
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /PEAK_RSS_KIB=(\d+)/.exec(err);
      if (code !== 0 || !m) reject(new Error(`${cmd.join(' ')} exited ${code}: ${err.trim()}`));
      else resolve(Number(m[1]));
    });
  });
}

/**
 * Peak RSS (KiB) of `install` in each scenario on a fresh kubeadm host tree. `installer` is the
 * command (the bundle under node, or the single-file binary); `binaries` the old and new binary.
 */
export async function installPeaks(installer: string[], binaries: { old: string; new: string }, node: FakeNode, env: Record<string, string> = {}): Promise<Record<Scenario, number>> {
  const root = makeHost(kubeadmDebian());
  const install = (binary: string) => peakRssKib([...installer, 'install', '--host-root', root, '--binary', binary, '--configure-kubelet', ...node.flags()], { ...node.env(), ...env });
  const fresh = await install(binaries.old);
  const installed = await install(binaries.old);
  const upgraded = await install(binaries.new);
  return { fresh, installed, upgraded };
}
