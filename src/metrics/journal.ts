// Counters, write side: the hit path's share of the metrics. Each invocation appends one short
// line to `<cacheDir>/metrics/journal.log` with one write(2) on an O_APPEND descriptor: atomic
// between processes, no lock, no read, three syscalls (open, write, close). The line holds only
// fixed words and numbers (outcome, error class, API action names, milliseconds), never a host,
// a role or a secret. Folding lines into totals (compact.ts) happens off the hit path.
//
// Line format (space-separated, '-' for none):
//   1 <result> <cache> <error-class> <calls>
//   result: ok | fail;  cache: hit | refreshed | shared | unlocked | stale | not-acr | failed | -
//   calls:  Action:outcome:ms[,Action:outcome:ms...]
import { closeSync, constants, fstatSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { checkCacheDir } from '../cache/cache-dir.ts';
import type { InvocationSummary } from '../provider/summary.ts';

export const METRICS_DIR = 'metrics';
export const JOURNAL_FILE = 'journal.log';
export const JOURNAL_VERSION = '1';
const OPEN_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;
const ACR_KINDS = new Set(['personal', 'enterprise', 'custom']);
const TOKEN = /^[A-Za-z0-9_.-]+$/;

export function journalPath(cacheDir: string): string {
  return join(cacheDir, METRICS_DIR, JOURNAL_FILE);
}

/** One journal line for a finished invocation. */
export function journalLine(summary: InvocationSummary, ok: boolean): string {
  const cache = summary.cache ?? (!ok && summary.registryKind !== undefined && ACR_KINDS.has(summary.registryKind) && !isUsageError(summary.errorClass) ? 'failed' : '-');
  const calls = summary.calls
    .filter((c) => TOKEN.test(c.action) && TOKEN.test(c.outcome))
    .map((c) => `${c.action}:${c.outcome}:${Math.max(0, Math.round(c.ms))}`)
    .join(',');
  const error = summary.errorClass !== undefined && TOKEN.test(summary.errorClass) ? summary.errorClass : '-';
  return `${JOURNAL_VERSION} ${ok ? 'ok' : 'fail'} ${cache} ${error} ${calls || '-'}\n`;
}

function isUsageError(errorClass: string | undefined): boolean {
  return errorClass === 'input' || errorClass === 'config' || errorClass === 'unsupported';
}

/**
 * Appends one line; returns the journal's size after the append (for the compaction trigger),
 * or undefined when nothing was written. Never throws: counters must not fail an invocation.
 */
export function appendToJournal(cacheDir: string, line: string): number | undefined {
  const path = journalPath(cacheDir);
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
    // First count on this node: create metrics/ only inside a cache directory we trust (the
    // cache code creates that directory; we never create it or fix its mode).
    if (!checkCacheDir(cacheDir).usable) return undefined;
    try {
      mkdirSync(join(cacheDir, METRICS_DIR), { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return undefined;
    }
    try {
      fd = openSync(path, OPEN_FLAGS, 0o600);
    } catch {
      return undefined;
    }
  }
  try {
    const data = Buffer.from(line, 'latin1');
    writeSync(fd, data, 0, data.length);
    return fstatSync(fd).size;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
