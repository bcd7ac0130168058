// Counters, write side: the hit path's share of the metrics. Each invocation appends one short
// line to `<cacheDir>/metrics/journal.log` with one write(2) on an O_APPEND descriptor: atomic
// between processes, no lock, no read; the directory and the file are opened through the checked
// cache directory's descriptor and fstat-ed before the write. The line holds only
// fixed words and numbers (outcome, error class, API action names, milliseconds), never a host,
// a role or a secret. Folding lines into totals (compact.ts) happens off the hit path.
//
// Line format (space-separated, '-' for none):
//   1 <result> <cache> <error-class> <calls>
//   result: ok | fail;  cache: hit | refreshed | shared | unlocked | stale | not-acr | failed | -
//   (cache `prewarm`: a refresh by the pre-warmer, not an invocation)
//   calls:  Action:outcome:ms[,Action:outcome:ms...]
import { closeSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { mintsTokens } from '../acr/registry-target.ts';
import { cacheSubdir } from '../cache/cache-dir.ts';
import { openForAppend } from '../fs/regular-file.ts';
import type { TrustedDir } from '../fs/trusted-dir.ts';
import type { InvocationSummary } from '../provider/summary.ts';

export const METRICS_DIR = 'metrics';
export const JOURNAL_FILE = 'journal.log';
export const JOURNAL_VERSION = '1';
const TOKEN = /^[A-Za-z0-9_.-]+$/;

export function journalPath(cacheDir: string): string {
  return join(cacheDir, METRICS_DIR, JOURNAL_FILE);
}

/** One journal line for a finished invocation. */
export function journalLine(summary: InvocationSummary, ok: boolean): string {
  const cache = summary.cache ?? (!ok && summary.registryKind !== undefined && mintsTokens(summary.registryKind) && !isUsageError(summary.errorClass) ? 'failed' : '-');
  const calls = summary.calls
    .filter((c) => TOKEN.test(c.action) && TOKEN.test(c.outcome))
    .map((c) => `${c.action}:${c.outcome}:${Math.max(0, Math.round(c.ms))}`)
    .join(',');
  const error = summary.errorClass !== undefined && TOKEN.test(summary.errorClass) ? summary.errorClass : '-';
  return `${JOURNAL_VERSION} ${ok ? 'ok' : 'fail'} ${cache} ${error} ${calls || '-'}\n`;
}

/** One journal line for a refresh by the pre-warmer. */
export function prewarmJournalLine(calls: InvocationSummary['calls'], errorClass: string | undefined): string {
  return journalLine({ cache: 'prewarm', calls, ...(errorClass !== undefined ? { errorClass } : {}) }, errorClass === undefined);
}

function isUsageError(errorClass: string | undefined): boolean {
  return errorClass === 'input' || errorClass === 'config' || errorClass === 'unsupported';
}

/**
 * Appends one line to the journal of a checked cache directory; returns the journal's size after
 * the append (for the compaction trigger), or undefined when nothing was written. Only a regular
 * file of ours is written to (never a FIFO, a symbolic link or someone else's file). Never throws:
 * counters must not fail an invocation.
 */
export function appendToJournal(cache: TrustedDir, line: string): number | undefined {
  const metrics = cacheSubdir(cache, METRICS_DIR);
  if (!metrics.usable) return undefined;
  try {
    const { fd, stat } = openForAppend(metrics.dir.at(JOURNAL_FILE), { owner: 'self', private: true });
    try {
      const data = Buffer.from(line, 'latin1');
      writeSync(fd, data, 0, data.length);
      // Other processes append too: close enough for deciding when to compact.
      return stat.size + data.length;
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  } finally {
    metrics.dir.close();
  }
}
