// Peak memory of `install` on the three host trees every node goes through: fresh (first
// install), installed (every pod restart: same payload) and upgraded (a new payload beside the
// old one). Shared by test/install/memory.test.ts (the limit) and test/bench/installer.ts (the
// numbers). Peak RSS is the kernel's ru_maxrss of the child, from GNU time's %M: the largest of
// the installer and what it waited for (the smoke test's provider runs in the pod's cgroup too,
// see providerPeakRssKib).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, copyFileSync, linkSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { encodeManifest, type PayloadManifest } from '../../src/payload/manifest.ts';
import { kubeadmDebian, makeHost, tempDir } from './helpers.ts';
import { fakePayload } from './fake-payload.ts';
import type { FakeNode } from './fake-node.ts';

export const SCENARIOS = ['fresh', 'installed', 'upgraded'] as const;

/** What the DaemonSet's install container sets (test/install/deploy.test.ts checks it does). */
export const INSTALL_NODE_OPTIONS = '--max-semi-space-size=1';
export type Scenario = (typeof SCENARIOS)[number];

/** Bounds the tests enforce: install's own peak (memory.test.ts), the smoke test's provider (test/packaging/no-libc-install.test.ts). */
export const INSTALLER_PEAK_MIB = 96;
export const SMOKE_PROVIDER_PEAK_MIB = 72;

/** A stand-in payload whose binary is `mib` MiB; `variant` changes its bytes (an upgrade). */
export function largePayload(mib: number, variant: number): string {
  return fakePayload({ binaryMiB: mib, build: variant });
}

/** A copy of payload `from` (hard links) whose binary has one more byte: another payload, as an upgrade brings. */
export function upgradedPayload(from: string): string {
  const manifest = JSON.parse(readFileSync(join(from, 'manifest.json'), 'utf8')) as PayloadManifest;
  const dir = join(tempDir('acr-upgraded-'), 'payload');
  for (const f of manifest.files) {
    mkdirSync(dirname(join(dir, f.path)), { recursive: true });
    if (f.path !== manifest.binary) linkSync(join(from, f.path), join(dir, f.path));
    else {
      copyFileSync(join(from, f.path), join(dir, f.path));
      appendFileSync(join(dir, f.path), '\n');
      const content = readFileSync(join(dir, f.path));
      Object.assign(f, { size: content.length, sha256: createHash('sha256').update(content).digest('hex') });
    }
  }
  writeFileSync(join(dir, 'manifest.json'), encodeManifest(manifest));
  return dir;
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
 * Peak RSS (KiB) of `install` in each scenario on a fresh kubeadm host tree (with /proc and /dev,
 * which the fake nsenter binds for the smoke test of a real payload). `installer` is the command
 * (the bundle under node, or the single-file binary); `payloads` the old and new payload.
 */
export async function installPeaks(installer: string[], payloads: { old: string; new: string }, node: FakeNode, env: Record<string, string> = {}): Promise<Record<Scenario, number>> {
  const root = makeHost(kubeadmDebian());
  for (const d of ['proc', 'dev']) mkdirSync(join(root, d));
  const install = (payload: string) => peakRssKib([...installer, 'install', '--host-root', root, '--payload', payload, '--configure-kubelet', ...node.flags()], { ...node.env(), ...env });
  const fresh = await install(payloads.old);
  const installed = await install(payloads.old);
  const upgraded = await install(payloads.new);
  return { fresh, installed, upgraded };
}

/** Peak RSS (KiB) of the provider answering a request for an image that is not ACR: the smoke test's process. */
export function providerPeakRssKib(command: string[], configPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'PEAK_RSS_KIB=%M', ...command, '--config', configPath], { stdio: ['pipe', 'ignore', 'pipe'], env: { PATH: '/usr/bin:/bin' } });
    let err = '';
    child.stderr.on('data', (d) => (err += String(d)));
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /PEAK_RSS_KIB=(\d+)/.exec(err);
      if (code !== 0 || !m) reject(new Error(`${command.join(' ')} exited ${code}: ${err.trim()}`));
      else resolve(Number(m[1]));
    });
    child.stdin.end('{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"docker.io/library/nginx"}\n');
  });
}
