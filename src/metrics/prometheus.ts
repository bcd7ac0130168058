// Renders the counters in the Prometheus text exposition format (version 0.0.4): one HELP and
// one TYPE line per family, then its samples, label values escaped (\\, \", \n).
import type { CounterSnapshot } from './counters.ts';

export const METRIC_PREFIX = 'aliyun_acr_credential_provider_';

interface Family {
  /** Series name in the counters (journal fold). */
  key: string;
  name: string;
  help: string;
  /** Series always present, at 0 until counted. */
  defaults?: Array<Record<string, string>>;
  scale?: number;
}

const FAMILIES: readonly Family[] = [
  { key: 'invocations', name: 'invocations_total', help: 'Provider invocations (kubelet requests and get-credentials), by result.', defaults: [{ result: 'success' }, { result: 'failure' }] },
  { key: 'cache_hits', name: 'cache_hits_total', help: 'Requests answered from the on-disk token cache, without any cloud call.', defaults: [{}] },
  {
    key: 'cache_misses',
    name: 'cache_misses_total',
    help: 'Requests the cache could not answer, by outcome: refreshed (this process called the cloud), shared (another process refreshed it), unlocked (refreshed without the lock), stale (refresh failed, a still-valid token was served), failed (nothing served).',
  },
  { key: 'not_acr', name: 'not_acr_total', help: 'Requests for hosts that are not ACR registries (answered without credentials and without a cloud call).', defaults: [{}] },
  { key: 'cloud_calls', name: 'cloud_calls_total', help: 'CR API call attempts, by action and outcome (ok, or the error class).' },
  { key: 'cloud_call_ms', name: 'cloud_call_duration_seconds_total', help: 'Time spent in CR API call attempts, by action.', scale: 1 / 1000 },
  { key: 'errors', name: 'errors_total', help: 'Failed invocations, by error class.' },
  { key: 'throttled', name: 'throttled_total', help: 'Throttling seen: throttled CR API attempts (where="cloud-call") and invocations that failed throttled (where="final-error").', defaults: [{ where: 'cloud-call' }, { where: 'final-error' }] },
  { key: 'prewarm_refreshes', name: 'prewarm_refreshes_total', help: 'Token refreshes by the pre-warmer (the DaemonSet), by result; after a failure the cached token stays in use while it is valid, and the refresh is retried with backoff.' },
  { key: 'journal_lines_invalid', name: 'journal_lines_invalid_total', help: 'Counter journal lines that could not be read (torn by a crash or written by another version).', defaults: [{}] },
];

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function labelText(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  return entries.length ? `{${entries.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}` : '';
}

/** Splits a counters key `name{a="x",b="y"}` into its name and labels. */
export function parseSeriesKey(key: string): { name: string; labels: Record<string, string> } {
  const brace = key.indexOf('{');
  if (brace === -1) return { name: key, labels: {} };
  const labels: Record<string, string> = {};
  for (const m of key.slice(brace + 1, -1).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)) labels[m[1]!] = m[2]!;
  return { name: key.slice(0, brace), labels };
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 1000) / 1000);
}

export function renderPrometheus(snapshot: CounterSnapshot): string {
  const out: string[] = [];
  const series = Object.entries(snapshot.counters).map(([key, value]) => ({ ...parseSeriesKey(key), value }));
  for (const f of FAMILIES) {
    const name = `${METRIC_PREFIX}${f.name}`;
    const samples = new Map<string, number>();
    for (const d of f.defaults ?? []) samples.set(labelText(d), 0);
    for (const s of series) if (s.name === f.key) samples.set(labelText(s.labels), (samples.get(labelText(s.labels)) ?? 0) + s.value * (f.scale ?? 1));
    if (samples.size === 0) continue;
    out.push(`# HELP ${name} ${escapeHelp(f.help)}`, `# TYPE ${name} counter`);
    for (const [labels, value] of [...samples].sort(([a], [b]) => a.localeCompare(b))) out.push(`${name}${labels} ${formatNumber(value)}`);
  }
  if (snapshot.since !== undefined) {
    const name = `${METRIC_PREFIX}counters_start_time_seconds`;
    out.push(`# HELP ${name} When these counters started (Unix time); they reset only if the cache directory is wiped.`, `# TYPE ${name} gauge`, `${name} ${Math.floor(snapshot.since / 1000)}`);
  }
  return `${out.join('\n')}\n`;
}
