// Peak RSS of `install` per scenario (fresh, installed, upgraded host tree), for `npm run bench`:
// the bundle under node installing a stand-in binary the size of the real one, and, when
// `npm run build:binary` has run, the single-file binary installing itself (as the DaemonSet's
// init container does) and a one-byte-different copy of itself as the upgrade.
import { copyFileSync, existsSync, statSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeNode } from '../install/fake-node.ts';
import { cleanup, tempDir } from '../install/helpers.ts';
import { INSTALL_NODE_OPTIONS, installPeaks, largeFile, peakRssKib, SCENARIOS, type Scenario } from '../install/rss-scenarios.ts';

export interface InstallerBenchRow {
  variant: string;
  binaryMiB: number;
  /** `install --help`: the command line's own start, which the installer's work adds to. */
  floorMiB: { median: number; max: number; n: number };
  peakRssMiB: Record<Scenario, { median: number; max: number; n: number }>;
}

function summary(kib: number[]): { median: number; max: number; n: number } {
  const s = [...kib].sort((a, b) => a - b);
  const mib = (k: number) => Math.round((k / 1024) * 10) / 10;
  return { median: mib(s[Math.floor((s.length - 1) / 2)] ?? NaN), max: mib(s[s.length - 1] ?? NaN), n: s.length };
}

export async function benchInstaller(node: string, bundle: string, binary: string, runs: number): Promise<InstallerBenchRow[]> {
  const fakeNode = await FakeNode.start();
  try {
    const variants: { name: string; cmd: string[]; old: string; new: string; env?: Record<string, string> }[] = [];
    const mib = existsSync(binary) ? Math.ceil(statSync(binary).size / 2 ** 20) : 127;
    variants.push({ name: 'bundle (node dist/…cjs)', cmd: [node, bundle], old: largeFile(mib, 1), new: largeFile(mib, 2) });
    if (existsSync(binary)) {
      const upgraded = join(tempDir('acr-bench-bin-'), 'aliyun-acr-credential-provider');
      copyFileSync(binary, upgraded);
      appendFileSync(upgraded, '\n');
      variants.push({ name: 'binary (SEA, linux-amd64)', cmd: [binary], old: binary, new: upgraded });
      variants.push({ name: `binary as deployed (NODE_OPTIONS=${INSTALL_NODE_OPTIONS})`, cmd: [binary], old: binary, new: upgraded, env: { NODE_OPTIONS: INSTALL_NODE_OPTIONS } });
    }
    const rows: InstallerBenchRow[] = [];
    const samples = new Map(variants.map((v) => [v.name, { floor: [] as number[], fresh: [] as number[], installed: [] as number[], upgraded: [] as number[] }]));
    for (let i = 0; i < runs; i++) {
      for (const v of variants) {
        samples.get(v.name)!.floor.push(await peakRssKib([...v.cmd, 'install', '--help'], { PATH: process.env.PATH ?? '/usr/bin:/bin', ...v.env }));
        const peaks = await installPeaks(v.cmd, { old: v.old, new: v.new }, fakeNode, v.env);
        for (const s of SCENARIOS) samples.get(v.name)![s].push(peaks[s]);
      }
    }
    for (const v of variants) {
      const s = samples.get(v.name)!;
      rows.push({ variant: v.name, binaryMiB: Math.round((statSync(v.old).size / 2 ** 20) * 10) / 10, floorMiB: summary(s.floor), peakRssMiB: { fresh: summary(s.fresh), installed: summary(s.installed), upgraded: summary(s.upgraded) } });
    }
    return rows;
  } finally {
    await fakeNode.close();
    cleanup();
  }
}

export function installerTable(rows: InstallerBenchRow[]): string[] {
  const lines = ['', 'install: peak RSS per host tree (kubeadm, fake nsenter, local healthz; median / max), against `install --help`', '| variant | binary | install --help | fresh | installed | upgraded |', '|---|---:|---:|---:|---:|---:|'];
  const cell = (c: { median: number; max: number }) => `${c.median} / ${c.max} MiB`;
  for (const r of rows) lines.push(`| ${r.variant} | ${r.binaryMiB} MiB | ${cell(r.floorMiB)} | ${cell(r.peakRssMiB.fresh)} | ${cell(r.peakRssMiB.installed)} | ${cell(r.peakRssMiB.upgraded)} |`);
  return lines;
}
