// Benchmarks (`npm run bench`; not part of `npm test`). Everything side by side in one run:
//   - cache-hit invocation: wall time and peak RSS of the single-file binary and of the bundle
//     under node, against `node -e 0` fed the same stdin (the floor: Node's own start-up);
//   - cold invocation (empty cache) against the local emulators;
//   - a 200-way burst across 5 registries, cold then warm: wall time and cloud calls;
//   - install: peak RSS on a fresh, an installed and an upgraded host tree (test/bench/installer.ts);
//   - prewarm: peak RSS of the DaemonSet's pre-warmer after refreshing three registries (test/bench/prewarm.ts);
//   - binary and bundle sizes.
// Medians and p90 over repeated runs; variants are interleaved run by run so that drift in the
// machine's load hits them all alike. Wall time is measured around a plain spawn; peak RSS in
// separate runs under `/usr/bin/time -f %M` (the kernel's ru_maxrss of that child, via wait4).
// Prints a table and writes the JSON result (default dist/bench-result.json, or --out PATH).
//
//   node test/bench/run.ts [--runs 40] [--cold-runs 15] [--burst 200] [--out PATH] [--only hit,cold,burst,install,prewarm]
//                          [--compare NAME=BUNDLE ...]   (extra bundles in the hit and cold tables)
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startEmulators, type Emulators } from '../emulators/index.ts';
import { BUNDLE_PATH, kubeletRequest, REPO_ROOT, writeConfig } from '../helpers/run-provider.ts';
import { checkCacheDir } from '../../src/cache/cache-dir.ts';
import type { TrustedDir } from '../../src/fs/trusted-dir.ts';
import { appendToJournal, journalLine } from '../../src/metrics/journal.ts';
import { compact, readCounters } from '../../src/metrics/counters.ts';
import { LogFile } from '../../src/log/log-file.ts';
import { benchInstaller, installerTable } from './installer.ts';
import { benchPrewarm, prewarmTable } from './prewarm.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '40' },
    'cold-runs': { type: 'string', default: '15' },
    burst: { type: 'string', default: '200' },
    out: { type: 'string', default: join(REPO_ROOT, 'dist', 'bench-result.json') },
    only: { type: 'string' },
    // Extra bundles to measure side by side (e.g. a build of another commit): NAME=PATH, repeatable.
    compare: { type: 'string', multiple: true },
  },
});
const RUNS = Number(values.runs);
const COLD_RUNS = Number(values['cold-runs']);
const BURST = Number(values.burst);
const only = new Set((values.only ?? 'hit,micro,cold,burst,install,prewarm').split(','));

const NODE = process.execPath;
const BINARY = join(REPO_ROOT, 'dist', 'bin', 'aliyun-acr-credential-provider-linux-amd64');
const TIME = '/usr/bin/time';
const PE_HOST = 'registry.cn-hangzhou.aliyuncs.com';

interface Variant {
  name: string;
  cmd: string[];
}

interface Sample {
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The request on a real pipe, as the kubelet gives it (Go's exec with a Reader: os.Pipe). Node's
 * 'pipe' stdio is a socketpair, which the provider reads as a stream (a slower path the kubelet
 * never takes). A FIFO of its own per run (runs may be concurrent), opened for reading, written,
 * closed and unlinked, holds the request and then reads as end of file: the read end becomes the
 * child's stdin.
 */
let fifoDir: string | undefined;
let fifos = 0;
const fifoPool: string[] = [];
function requestPipe(stdin: string): number {
  if (fifoPool.length === 0) {
    // One mkfifo for many: a burst's 200 runs start in one tick of the loop that serves the emulators.
    const dir = (fifoDir ??= mkdtempSync(join(tmpdir(), 'acr-bench-fifo-')));
    const batch = Array.from({ length: 256 }, () => join(dir, String(fifos++)));
    execFileSync('mkfifo', ['-m', '600', ...batch]);
    fifoPool.push(...batch);
  }
  const fifo = fifoPool.pop()!;
  const read = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const write = openSync(fifo, constants.O_WRONLY);
  writeSync(write, stdin); // well under the pipe's 64 KiB buffer
  closeSync(write);
  rmSync(fifo);
  return read;
}

/**
 * One run with `stdin` on a real pipe (the kubelet's way), or on Node's socketpair for the burst:
 * its 200 children already reach the emulators, which share this process's event loop, while
 * the others are still being spawned, and a real pipe gets them there sooner still.
 */
function run(cmd: readonly string[], stdin: string, env: Record<string, string> = {}, via: 'pipe' | 'socket' = 'pipe'): Promise<Sample> {
  const input = via === 'pipe' ? requestPipe(stdin) : 'pipe';
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: [input, 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
    if (typeof input === 'number') closeSync(input);
    else {
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(stdin);
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: performance.now() - started, code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  });
}

/** Peak RSS in KiB of one run, from GNU time's %M (ru_maxrss of the child). */
async function peakRssKib(cmd: readonly string[], stdin: string): Promise<number> {
  const r = await run([TIME, '-f', 'PEAK_RSS_KIB=%M', ...cmd], stdin);
  const m = /PEAK_RSS_KIB=(\d+)/.exec(r.stderr);
  if (!m) throw new Error(`no peak RSS from ${TIME}: ${r.stderr}`);
  return Number(m[1]);
}

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

const stats = (xs: readonly number[]) => ({ median: round(quantile(xs, 0.5)), p90: round(quantile(xs, 0.9)), min: round(Math.min(...xs)), n: xs.length });
const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

function expectAuth(s: Sample, host: string, label: string): void {
  if (s.code !== 0) throw new Error(`${label}: exit ${s.code}: ${s.stderr.trim()}`);
  const doc = JSON.parse(s.stdout) as { auth?: Record<string, unknown> };
  if (!doc.auth?.[host]) throw new Error(`${label}: no credentials for ${host}`);
}

function machine() {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    loadAverageAtStart: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    date: new Date().toISOString(),
  };
}

async function main(): Promise<void> {
  if (!existsSync(BUNDLE_PATH)) throw new Error('dist/aliyun-acr-credential-provider.cjs is missing: run npm run build');
  const haveBinary = existsSync(BINARY);
  if (!haveBinary) process.stderr.write(`bench: ${BINARY} is missing (npm run build:binary); benchmarking the bundle only\n`);
  const variants: Variant[] = [{ name: 'bundle (node dist/…cjs)', cmd: [NODE, BUNDLE_PATH] }];
  if (haveBinary) variants.unshift({ name: 'binary (SEA, linux-amd64)', cmd: [BINARY] });
  for (const spec of values.compare ?? []) {
    const [name, path] = spec.split('=');
    if (!name || !path || !existsSync(path)) throw new Error(`--compare ${spec}: expected NAME=PATH of a bundle`);
    variants.push({ name: `bundle: ${name}`, cmd: [NODE, path] });
  }
  const floor: Variant = { name: 'floor: node -e 0', cmd: [NODE, '-e', '0'] };

  const e = await startEmulators();
  const dir = mkdtempSync(join(tmpdir(), 'acr-bench-'));
  const result: Record<string, unknown> = { machine: machine(), runs: RUNS };
  try {
    const config = writeConfig(dir, e, { cacheDir: join(dir, 'cache') });
    const stdin = kubeletRequest(`${PE_HOST}/ns/app`);
    const args = ['--config', config];

    if (only.has('hit')) result.hit = await benchHit(variants, floor, args, stdin);
    if (only.has('micro')) result.micro = benchMicro(dir);
    if (only.has('cold')) result.cold = await benchCold(e, dir, variants);
    if (only.has('burst')) result.burst = await benchBurst(e, dir, variants[0]!);
    if (only.has('install')) result.install = await benchInstaller(NODE, BUNDLE_PATH, BINARY, 3);
    if (only.has('prewarm')) result.prewarm = await benchPrewarm(variants, 5);
    result.sizes = {
      binaryBytes: haveBinary ? statSync(BINARY).size : null,
      bundleBytes: statSync(BUNDLE_PATH).size,
    };
  } finally {
    await e.close();
    rmSync(dir, { recursive: true, force: true });
    if (fifoDir) rmSync(fifoDir, { recursive: true, force: true }); // the pool's unused FIFOs
  }
  writeFileSync(values.out!, `${JSON.stringify(result, null, 2)}\n`);
  printTable(result);
  process.stdout.write(`\nJSON written to ${values.out}\n`);
}

async function benchHit(variants: Variant[], floor: Variant, args: string[], stdin: string) {
  // Warm the cache (and the OS page cache) once per variant.
  for (const v of variants) expectAuth(await run([...v.cmd, ...args], stdin), PE_HOST, `warm-up ${v.name}`);
  await run(floor.cmd, stdin);
  const all = [floor, ...variants];
  const wall = new Map<string, number[]>(all.map((v) => [v.name, []]));
  const rss = new Map<string, number[]>(all.map((v) => [v.name, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const v of all) {
      const cmd = v === floor ? v.cmd : [...v.cmd, ...args];
      const s = await run(cmd, stdin);
      if (v !== floor) expectAuth(s, PE_HOST, v.name);
      wall.get(v.name)!.push(s.ms);
    }
  }
  for (let i = 0; i < Math.min(RUNS, 20); i++) {
    for (const v of all) rss.get(v.name)!.push(await peakRssKib(v === floor ? v.cmd : [...v.cmd, ...args], stdin));
  }
  const floorMedian = quantile(wall.get(floor.name)!, 0.5);
  const floorRss = quantile(rss.get(floor.name)!, 0.5);
  return all.map((v) => {
    const w = stats(wall.get(v.name)!);
    const r = stats(rss.get(v.name)!.map((k) => k / 1024));
    return { variant: v.name, wallMs: w, ratioToFloor: round(w.median / floorMedian, 2), peakRssMiB: r, rssRatioToFloor: round(quantile(rss.get(v.name)!, 0.5) / floorRss, 2) };
  });
}

/** In-process cost of what the hit path added: one counter line, one log-file line; and a compaction. */
function benchMicro(dir: string) {
  const cacheDir = join(dir, 'micro-cache');
  mkdirSync(cacheDir, { mode: 0o700 });
  const line = journalLine({ calls: [], cache: 'hit', host: PE_HOST, registryKind: 'personal' }, true);
  const time = (n: number, fn: () => void): number => {
    const started = performance.now();
    for (let i = 0; i < n; i++) fn();
    return round(((performance.now() - started) / n) * 1000, 1);
  };
  const n = 5000;
  const opened = openedCacheDir(cacheDir);
  const appendUs = time(n, () => appendToJournal(opened, line));
  const logFile = new LogFile(join(dir, 'micro.log'));
  const logLineUs = time(n, () => logFile.write('{"time":"2026-01-01T00:00:00.000Z","level":"info","msg":"served","host":"registry.cn-hangzhou.aliyuncs.com","cache":"hit","ms":3}'));
  // A journal of ~256 KiB (the compaction trigger): set aside, then folded once quiet.
  const big = join(dir, 'micro-compact');
  mkdirSync(join(big, 'metrics'), { recursive: true, mode: 0o700 });
  const lines = journalLine({ calls: [{ action: 'GetAuthorizationToken', outcome: 'ok', ms: 12 }], cache: 'refreshed' }, true).repeat(6000);
  writeFileSync(join(big, 'metrics', 'journal.log'), lines, { mode: 0o600 });
  const t0 = performance.now();
  const bigOpened = openedCacheDir(big);
  compact(bigOpened);
  compact(bigOpened, Date.now() + 5000);
  const compactMs = round(performance.now() - t0, 2);
  const counted = readCounters(big).counters['invocations{result="success"}'];
  return { counterAppendUs: appendUs, logFileLineUs: logLineUs, compact256KiBMs: compactMs, compactedInvocations: counted, journalLineBytes: line.length };
}

/** A cache directory opened and checked, as an invocation holds it. */
function openedCacheDir(path: string): TrustedDir {
  const check = checkCacheDir(path);
  if (!check.usable) throw new Error(`bench: cache directory ${path} ${check.reason}`);
  return check.dir;
}

async function benchCold(e: Emulators, dir: string, variants: Variant[]) {
  const out = [];
  for (const v of variants) {
    const ms: number[] = [];
    const callsBefore = e.calls().length;
    for (let i = 0; i < COLD_RUNS; i++) {
      const config = writeConfig(dir, e, { cacheDir: join(dir, `cold-${i}-${ms.length}-${Math.random().toString(36).slice(2)}`) }, 'cold.json');
      const s = await run([...v.cmd, '--config', config], kubeletRequest(`${PE_HOST}/ns/app`));
      expectAuth(s, PE_HOST, `cold ${v.name}`);
      ms.push(s.ms);
    }
    out.push({ variant: v.name, wallMs: stats(ms), cloudCallsPerInvocation: round((e.calls().length - callsBefore) / COLD_RUNS, 2) });
  }
  return out;
}

async function benchBurst(e: Emulators, dir: string, v: Variant) {
  const regions = ['cn-hangzhou', 'cn-shanghai', 'cn-beijing', 'ap-southeast-1', 'cn-shanghai-finance-1'];
  const hosts = regions.map((region, i) => {
    e.state.addInstance({ regionId: region, instanceName: `bench-${i}` });
    return `bench-${i}-registry.${region}.cr.aliyuncs.com`;
  });
  // 200 processes queue for 2 cores: the default 30 s deadline can run out before a process gets
  // its turn (the reliability suite's load test uses 55 s too; the kubelet allows 60 s).
  const config = writeConfig(dir, e, { cacheDir: join(dir, 'burst-cache'), timeout: '55s' }, 'burst.json');
  const images = Array.from({ length: BURST }, (_, i) => ({ host: hosts[i % hosts.length]!, image: `${hosts[i % hosts.length]}/ns/app-${i}` }));
  const phase = async (label: string) => {
    e.resetCalls();
    const started = performance.now();
    const samples = await Promise.all(images.map(({ image }) => run([...v.cmd, '--config', config], kubeletRequest(image), {}, 'socket')));
    const wall = performance.now() - started;
    samples.forEach((s, i) => expectAuth(s, images[i]!.host, `${label} #${i}`));
    const tokenCalls = e.calls({ server: 'cr', action: 'GetAuthorizationToken' }).length;
    return { phase: label, invocations: BURST, wallMs: round(wall), perInvocationMs: stats(samples.map((s) => s.ms)), tokenCalls, cloudCalls: e.calls().length };
  };
  return { variant: v.name, registries: hosts.length, cold: await phase('cold'), warm: await phase('warm') };
}

function printTable(result: Record<string, any>): void {
  const m = result.machine;
  const lines: string[] = [];
  lines.push(`machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}, ${m.date} (load at start ${m.loadAverageAtStart})`);
  if (result.hit) {
    lines.push('', `cache hit (${RUNS} runs each, interleaved)`, '| variant | wall median | wall p90 | × floor | peak RSS median | RSS × floor |', '|---|---:|---:|---:|---:|---:|');
    for (const h of result.hit) lines.push(`| ${h.variant} | ${h.wallMs.median} ms | ${h.wallMs.p90} ms | ${h.ratioToFloor} | ${h.peakRssMiB.median} MiB | ${h.rssRatioToFloor} |`);
  }
  if (result.micro) {
    const u = result.micro;
    lines.push('', `in-process: counter journal append ${u.counterAppendUs} µs/invocation (${u.journalLineBytes} bytes), log-file line ${u.logFileLineUs} µs, compaction of a 256 KiB journal ${u.compact256KiBMs} ms (${u.compactedInvocations} invocations)`);
  }
  if (result.cold) {
    lines.push('', `cold invocation, empty cache, local emulators (${COLD_RUNS} runs each)`, '| variant | wall median | wall p90 | cloud calls / invocation |', '|---|---:|---:|---:|');
    for (const c of result.cold) lines.push(`| ${c.variant} | ${c.wallMs.median} ms | ${c.wallMs.p90} ms | ${c.cloudCallsPerInvocation} |`);
  }
  if (result.burst) {
    const b = result.burst;
    lines.push('', `burst: ${BURST} concurrent invocations across ${b.registries} registries (${b.variant})`, '| phase | wall (all done) | per-invocation median | p90 | token calls | cloud calls |', '|---|---:|---:|---:|---:|---:|');
    for (const p of [b.cold, b.warm]) lines.push(`| ${p.phase} | ${p.wallMs} ms | ${p.perInvocationMs.median} ms | ${p.perInvocationMs.p90} ms | ${p.tokenCalls} | ${p.cloudCalls} |`);
  }
  if (result.install) lines.push(...installerTable(result.install));
  if (result.prewarm) lines.push(...prewarmTable(result.prewarm));
  const s = result.sizes;
  lines.push('', `sizes: binary ${s.binaryBytes === null ? 'n/a' : `${round(s.binaryBytes / 2 ** 20)} MiB`}, bundle ${round(s.bundleBytes / 1024)} KiB`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
