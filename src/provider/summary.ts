// What one invocation did, for the single summary log line: host, cache outcome, cloud calls
// with their durations, error class. Never holds a secret.

export type CacheOutcome = 'hit' | 'refreshed' | 'shared' | 'unlocked' | 'stale' | 'not-acr' | 'error';

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

export function summaryFields(s: InvocationSummary, startedAt: number): Record<string, string | number | undefined> {
  return {
    host: s.host,
    kind: s.registryKind,
    cache: s.cache,
    calls: s.calls.length ? s.calls.map((c) => `${c.action}:${c.outcome}:${c.ms}ms`).join(',') : undefined,
    error: s.errorClass,
    ms: Date.now() - startedAt,
  };
}
