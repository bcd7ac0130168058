// Peak RSS of `install` per scenario (fresh, installed, upgraded host tree), for `npm run bench`:
// the bundle under node installing a stand-in payload the size of the real one, and, when
// `npm run build:binary` has run, the single-file binary installing its own payload directory
// (as the DaemonSet's init container does) and a copy whose binary is one byte longer as the
// upgrade. Also the smoke test's provider process, which runs in the same container (its cgroup)
// while the installer waits for it.
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { FakeNode } from '../install/fake-node.ts';
import { cleanup } from '../install/helpers.ts';
import { INSTALL_NODE_OPTIONS, installPeaks, largePayload, peakRssKib, providerPeakRssKib, SCENARIOS, upgradedPayload, type Scenario } from '../install/rss-scenarios.ts';

export interface InstallerBenchRow {
  variant: string;
  binaryMiB: number;
  /** `install --help`: the command line's own start, which the installer's work adds to. */
  floorMiB: { median: number; max: number; n: number };
  peakRssMiB: Record<Scenario, { median: number; max: number; n: number }>;
  /** The smoke test's provider (a request for an image that is not ACR), when this variant is the binary. */
  smokeProviderMiB?: { median: number; max: number; n: number };
}

function summary(kib: number[]): { median: number; max: number; n: number } {
  const s = [...kib].sort((a, b) => a - b);
  const mib = (k: number) => Math.round((k / 1024) * 10) / 10;
  return { median: mib(s[Math.floor((s.length - 1) / 2)] ?? NaN), max: mib(s[s.length - 1] ?? NaN), n: s.length };
}

/** `binary`: the single-file binary; its payload directory (dist/payload/linux-amd64) is installed. */
export async function benchInstaller(node: string, bundle: string, binary: string, runs: number): Promise<InstallerBenchRow[]> {
  const fakeNode = await FakeNode.start();
  const payloadDir = join(dirname(dirname(binary)), 'payload', 'linux-amd64');
  const installer = join(payloadDir, 'aliyun-acr-credential-provider');
  try {
    const variants: { name: string; cmd: string[]; old: string; new: string; env?: Record<string, string>; provider?: string[] }[] = [];
    const mib = existsSync(binary) ? Math.ceil(statSync(binary).size / 2 ** 20) : 127;
    variants.push({ name: 'bundle (node dist/…cjs)', cmd: [node, bundle], old: largePayload(mib, 1), new: largePayload(mib, 2) });
    if (existsSync(installer)) {
      const upgraded = upgradedPayload(payloadDir);
      variants.push({ name: 'binary (SEA, linux-amd64)', cmd: [installer], old: payloadDir, new: upgraded, provider: [installer] });
      variants.push({ name: `binary as deployed (NODE_OPTIONS=${INSTALL_NODE_OPTIONS})`, cmd: [installer], old: payloadDir, new: upgraded, env: { NODE_OPTIONS: INSTALL_NODE_OPTIONS } });
    }
    const rows: InstallerBenchRow[] = [];
    const samples = new Map(variants.map((v) => [v.name, { floor: [] as number[], fresh: [] as number[], installed: [] as number[], upgraded: [] as number[], provider: [] as number[] }]));
    const configDir = mkdtempSync(join(tmpdir(), 'acr-bench-config-'));
    const config = join(configDir, 'config.json');
    writeFileSync(config, '{}\n');
    for (let i = 0; i < runs; i++) {
      for (const v of variants) {
        samples.get(v.name)!.floor.push(await peakRssKib([...v.cmd, 'install', '--help'], { PATH: process.env.PATH ?? '/usr/bin:/bin', ...v.env }));
        const peaks = await installPeaks(v.cmd, { old: v.old, new: v.new }, fakeNode, v.env);
        for (const s of SCENARIOS) samples.get(v.name)![s].push(peaks[s]);
        if (v.provider) samples.get(v.name)!.provider.push(await providerPeakRssKib(v.provider, config));
      }
    }
    rmSync(configDir, { recursive: true, force: true });
    for (const v of variants) {
      const s = samples.get(v.name)!;
      const binaryBytes = statSync(join(v.old, 'aliyun-acr-credential-provider')).size;
      rows.push({
        variant: v.name,
        binaryMiB: Math.round((binaryBytes / 2 ** 20) * 10) / 10,
        floorMiB: summary(s.floor),
        peakRssMiB: { fresh: summary(s.fresh), installed: summary(s.installed), upgraded: summary(s.upgraded) },
        ...(s.provider.length ? { smokeProviderMiB: summary(s.provider) } : {}),
      });
    }
    return rows;
  } finally {
    await fakeNode.close();
    cleanup();
  }
}

export function installerTable(rows: InstallerBenchRow[]): string[] {
  const lines = ['', 'install: peak RSS per host tree (kubeadm, fake nsenter, local healthz; median / max), against `install --help`; the smoke test\'s provider runs in the same container', '| variant | binary | install --help | fresh | installed | upgraded | smoke test\'s provider |', '|---|---:|---:|---:|---:|---:|---:|'];
  const cell = (c: { median: number; max: number }) => `${c.median} / ${c.max} MiB`;
  for (const r of rows) lines.push(`| ${r.variant} | ${r.binaryMiB} MiB | ${cell(r.floorMiB)} | ${cell(r.peakRssMiB.fresh)} | ${cell(r.peakRssMiB.installed)} | ${cell(r.peakRssMiB.upgraded)} | ${r.smokeProviderMiB ? cell(r.smokeProviderMiB) : '-'} |`);
  return lines;
}
