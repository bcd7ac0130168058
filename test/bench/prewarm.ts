// Peak RSS of the DaemonSet's `prewarm` container process, for `npm run bench` (--only prewarm):
// the command against the local emulators with three Enterprise registries configured, stopped
// by SIGTERM once it has refreshed all three (its steady state: asleep until the next refresh).
// The peak is the process's VmHWM read just before the signal.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulators } from '../emulators/index.ts';
import { writeConfig } from '../helpers/run-provider.ts';

export interface PrewarmBenchRow {
  variant: string;
  peakRssMiB: { median: number; max: number; n: number };
  /** Until all three registries were refreshed (start-up included). */
  firstPassMs: { median: number; max: number };
}

/** What the DaemonSet sets for its Node processes (a 1 MiB young generation). */
export const PREWARM_NODE_OPTIONS = '--max-semi-space-size=1';

export async function benchPrewarm(given: Array<{ name: string; cmd: string[] }>, runs: number): Promise<PrewarmBenchRow[]> {
  const variants: Array<{ name: string; cmd: string[]; env?: Record<string, string> }> = [...given];
  const binary = given.find((v) => v.name.startsWith('binary'));
  if (binary) variants.push({ name: `binary as deployed (NODE_OPTIONS=${PREWARM_NODE_OPTIONS})`, cmd: binary.cmd, env: { NODE_OPTIONS: PREWARM_NODE_OPTIONS } });
  const e = await startEmulators();
  const dir = mkdtempSync(join(tmpdir(), 'acr-bench-prewarm-'));
  try {
    const hosts = ['one', 'two', 'three'].map((name) => {
      e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: name });
      return `${name}-registry.cn-hangzhou.cr.aliyuncs.com`;
    });
    const samples = new Map(variants.map((v) => [v.name, { rss: [] as number[], ms: [] as number[] }]));
    for (let i = 0; i < runs; i++) {
      for (const v of variants) {
        const cacheDir = join(dir, `cache-${i}-${v.name.replace(/\W/g, '')}`);
        const config = writeConfig(dir, e, { cacheDir, registries: hosts.map((h) => ({ domains: [h] })) }, 'prewarm.json');
        const { kib, ms } = await oneRun([...v.cmd, 'prewarm', '--config', config, '--node-name', 'bench'], hosts.length, v.env);
        samples.get(v.name)!.rss.push(kib);
        samples.get(v.name)!.ms.push(ms);
      }
    }
    return variants.map((v) => {
      const s = samples.get(v.name)!;
      const mib = [...s.rss].sort((a, b) => a - b).map((k) => Math.round((k / 1024) * 10) / 10);
      const ms = [...s.ms].sort((a, b) => a - b);
      return { variant: v.name, peakRssMiB: { median: mib[Math.floor((mib.length - 1) / 2)]!, max: mib.at(-1)!, n: mib.length }, firstPassMs: { median: Math.round(ms[Math.floor((ms.length - 1) / 2)]!), max: Math.round(ms.at(-1)!) } };
    });
  } finally {
    await e.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs prewarm until it has refreshed `registries` tokens, reads its peak RSS (VmHWM, the
 * kernel's high-water mark of the process), then stops it with SIGTERM.
 */
function oneRun(cmd: string[], registries: number, env: Record<string, string> = {}): Promise<{ kib: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
    let stderr = '';
    let measured: { kib: number; ms: number } | undefined;
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (measured === undefined && (stderr.match(/info: prewarmed /g)?.length ?? 0) >= registries) {
        const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        measured = { kib: Number(hwm?.[1] ?? NaN), ms: performance.now() - started };
        child.kill('SIGTERM');
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (measured === undefined || code !== 0) reject(new Error(`prewarm did not refresh ${registries} registries and stop cleanly (exit ${code}): ${stderr}`));
      else resolve(measured);
    });
  });
}

export function prewarmTable(rows: PrewarmBenchRow[]): string[] {
  return ['', 'prewarm: peak RSS of the DaemonSet container process (3 registries refreshed, then SIGTERM; median / max)', '| variant | peak RSS | first pass |', '|---|---:|---:|', ...rows.map((r) => `| ${r.variant} | ${r.peakRssMiB.median} / ${r.peakRssMiB.max} MiB | ${r.firstPassMs.median} / ${r.firstPassMs.max} ms |`)];
}
