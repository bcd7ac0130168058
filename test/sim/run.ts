// `npm run simulate`: the fleet simulation (fleet.ts) for N = 100, 1,000 and 10,000 nodes, R = 3
// registries, with and without the pre-warmer, for 1-hour and 12-hour tokens; prints one table.
// Not part of `npm test`. Options:
//   --nodes 100,1000,10000   fleet sizes        --throttle 100    the API's requests per second
//   --window 0.5-0.8         pre-warm window    --retry 15s-5m    the pre-warmer's retry base and cap
//   --lifetimes 1h,12h       token lifetimes    --jobs 2          runs at once (worker threads)
//   --seed 1                 --verbose          (outcomes of kubelet calls by phase)
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { parseGoDuration } from '../../src/kubelet/go-duration.ts';
import { DEFAULT_PREWARM_POLICY, type PrewarmPolicy } from '../../src/prewarm/schedule.ts';
import { SCENARIO, type FleetOptions, type FleetResult } from './fleet.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '100,1000,10000' },
    registries: { type: 'string', default: '3' },
    throttle: { type: 'string', default: '100' },
    window: { type: 'string' },
    retry: { type: 'string' },
    lifetimes: { type: 'string', default: '1h,12h' },
    jobs: { type: 'string', default: String(Math.min(2, availableParallelism())) },
    seed: { type: 'string', default: '1' },
    verbose: { type: 'boolean', default: false },
  },
});

const policy: PrewarmPolicy = { ...DEFAULT_PREWARM_POLICY };
if (values.window) [policy.windowStart, policy.windowEnd] = values.window.split('-').map(Number) as [number, number];
if (values.retry) [policy.retryBaseMs, policy.retryMaxMs] = values.retry.split('-').map(parseGoDuration) as [number, number];

const runs: FleetOptions[] = [];
for (const nodes of values.nodes.split(',').map(Number)) {
  for (const lifetime of values.lifetimes.split(',')) {
    for (const prewarm of [false, true]) {
      runs.push({ nodes, registries: Number(values.registries), tokenLifetimeMs: parseGoDuration(lifetime), prewarm: prewarm ? policy : undefined, throttlePerSecond: Number(values.throttle), seed: Number(values.seed) });
    }
  }
}

const started = performance.now();
const results: FleetResult[] = new Array(runs.length);
// Biggest first, so that the two workers finish together.
const queue = runs.map((options, index) => ({ options, index })).sort((a, b) => b.options.nodes - a.options.nodes);
async function worker(): Promise<void> {
  for (let job = queue.shift(); job; job = queue.shift()) {
    const { options, index } = job;
    const result = await new Promise<FleetResult>((resolve, reject) => {
      const w = new Worker(new URL('./worker.ts', import.meta.url), { workerData: options });
      w.once('message', (r: FleetResult & { outcomes: Array<[string, number]> }) => resolve({ ...r, outcomes: new Map(r.outcomes) }));
      w.once('error', reject);
    });
    results[index] = result;
    process.stderr.write(`  ${options.nodes} nodes, ${options.tokenLifetimeMs / 3600_000}h tokens, pre-warm ${options.prewarm ? 'on' : 'off'}: ${(result.wallMs / 1000).toFixed(1)} s, ${result.events} events\n`);
  }
}
await Promise.all(Array.from({ length: Math.max(1, Number(values.jobs)) }, worker));

const header = ['nodes', 'token', 'pre-warm', 'API calls/h', 'peak calls/s', 'from cache', 'after boot', 'p99 wait', 'failed in outage', 'failed (all)', 'throttled'];
const percent = (part: number, whole: number): string => `${((100 * part) / Math.max(1, whole)).toFixed(1)}%`;
const table = results.map((r) => [
  r.options.nodes.toLocaleString('en-US'),
  `${r.options.tokenLifetimeMs / 3600_000}h`,
  r.options.prewarm ? 'on' : 'off',
  Math.round(r.apiPerHour).toLocaleString('en-US'),
  String(r.peakPerSecond),
  percent(r.hits, r.kubeletCalls),
  percent(r.hitsAfterBoot, r.callsAfterBoot),
  r.p99WaitMs >= 1000 ? `${(r.p99WaitMs / 1000).toFixed(1)} s` : `${r.p99WaitMs} ms`,
  r.failedDuringOutage.toLocaleString('en-US'),
  r.failed.toLocaleString('en-US'),
  r.throttled.toLocaleString('en-US'),
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
const line = (cells: string[]): string => `| ${cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
const o = SCENARIO.outage;
console.log(
  `Fleet simulation: R=${values.registries} registries per node, API throttled at ${values.throttle} req/s, ${SCENARIO.durationMs / 3600_000} h: fleet boot, ` +
    `${SCENARIO.churnPerHour * 100}% of nodes replaced hourly, kubelet restart at ${SCENARIO.kubeletRestartAt / 3600_000}h, ${(o.to - o.from) / 60_000}-minute outage at ${o.from / 3600_000}h; ` +
    `pre-warm window ${policy.windowStart}-${policy.windowEnd}, retries ${policy.retryBaseMs / 1000}s..${policy.retryMaxMs / 60_000}m`,
);
console.log(line(header));
console.log(`|${widths.map((w, i) => (i < 3 ? `-${'-'.repeat(w)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
for (const row of table) console.log(line(row));
if (values.verbose) {
  for (const r of results) console.log(`${r.options.nodes} nodes ${r.options.tokenLifetimeMs / 3600_000}h ${r.options.prewarm ? 'on' : 'off'}: ${[...r.outcomes].sort().map(([k, v]) => `${k} ${v}`).join(', ')}`);
}
console.log(`(${((performance.now() - started) / 1000).toFixed(0)} s)`);
