// What one invocation did, for the single summary log line and the counters: host, registry
// kind, cache outcome, cloud calls with their durations, error class. Never holds a secret.
import type { LogFields } from '../log/logger.ts';

export type CacheOutcome = 'hit' | 'refreshed' | 'shared' | 'unlocked' | 'stale' | 'not-acr' | 'error' | 'prewarm';

export interface InvocationSummary {
  host?: string;
  registryKind?: string;
  cache?: CacheOutcome;
  calls: Array<{ action: string; ms: number; outcome: string }>;
  errorClass?: string;
}

export function newSummary(): InvocationSummary {
  return { calls: [] };
}

/**
 * Fields of the "served"/"failed" line. In text: `host=… kind=… cache=hit calls=Action:ok:12ms,…
 * error=… ms=…`; in JSON the calls are a list of {action, outcome, ms}.
 */
export function summaryFields(s: InvocationSummary, startedAt: number, now: number = Date.now()): LogFields {
  return {
    host: s.host,
    kind: s.registryKind,
    cache: s.cache,
    calls: s.calls.length ? s.calls.map((c) => ({ action: c.action, outcome: c.outcome, ms: Math.round(c.ms) })) : undefined,
    cloudMs: s.calls.length ? Math.round(s.calls.reduce((sum, c) => sum + c.ms, 0)) : undefined,
    error: s.errorClass,
    ms: now - startedAt,
  };
}
