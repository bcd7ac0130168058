// Counters, read side: folds journal lines into totals and keeps the journal small.
//
// Layout under <cacheDir>/metrics/ (directory 0700, files 0600):
//   journal.log                    appended by every invocation (journal.ts)
//   journal.<ms>.<pid>.old         a journal set aside by a compaction, folded in once quiet
//   totals.json                    { version, since, counters, consumed[] } written atomically
//   compact.lock/                  mkdir lock of the compaction (stale after 30 s)
//
// Compaction, under the lock: (1) rename journal.log aside, so new lines go to a fresh file;
// (2) fold every set-aside journal whose rename and last write are older than QUIET_MS into the
// totals, and list its name under `consumed`; (3) write totals.json atomically (temp + fsync +
// rename); (4) unlink the consumed files and later forget their names. A crash between (3) and
// (4) cannot count a file twice: consumed files are skipped. A writer that opened journal.log
// just before the rename appends to the set-aside file, which is folded only once it has been
// quiet for QUIET_MS, so its line is counted too (a writer would have to stall for seconds
// between its open and its single write to be missed).
import { lstatSync, readdirSync, renameSync, rmdirSync, unlinkSync } from 'node:fs';
import { cacheSubdir, checkCacheDir } from '../cache/cache-dir.ts';
import { takeDirLock } from '../cache/dir-lock.ts';
import { replaceFileAtomically } from '../fs/atomic-write.ts';
import { readRegularFile, type FileRule } from '../fs/regular-file.ts';
import { openTrustedSubdir, type TrustedDir } from '../fs/trusted-dir.ts';
import { JOURNAL_FILE, JOURNAL_VERSION, METRICS_DIR } from './journal.ts';

export const TOTALS_FILE = 'totals.json';
const QUIET_MS = 2000;
const LOCK_STALE_MS = 30_000;
const SET_ASIDE = /^journal\.(\d+)\.(\d+)\.old$/;
const TOKEN = /^[A-Za-z0-9_.-]+$/;

/** Counter values keyed by series: `name` or `name{label="value",...}` (values are tokens). */
export type Counters = Record<string, number>;

export interface Totals {
  version: 1;
  /** Epoch ms when counting started (first compaction or first journal line seen). */
  since: number;
  counters: Counters;
  consumed: string[];
}

export function seriesKey(name: string, labels: Record<string, string> = {}): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return parts.length ? `${name}{${parts.join(',')}}` : name;
}

function add(c: Counters, key: string, n = 1): void {
  c[key] = (c[key] ?? 0) + n;
}

/** Folds journal text into `c`; malformed lines (torn by a crash, foreign) are counted apart. */
export function foldJournal(text: string, c: Counters): void {
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const f = line.split(' ');
    if (f.length !== 5 || f[0] !== JOURNAL_VERSION || (f[1] !== 'ok' && f[1] !== 'fail') || !TOKEN.test(f[2]!) || !TOKEN.test(f[3]!) || !/^[A-Za-z0-9_.:,-]+$/.test(f[4]!)) {
      add(c, 'journal_lines_invalid');
      continue;
    }
    const [, result, cache, error, calls] = f as [string, string, string, string, string];
    if (cache === 'prewarm') {
      // A refresh by the pre-warmer (journal.ts prewarmJournalLine), not an invocation: only its
      // result and its cloud calls are counted.
      add(c, seriesKey('prewarm_refreshes', { result: result === 'ok' ? 'success' : 'failure' }));
    } else {
      add(c, seriesKey('invocations', { result: result === 'ok' ? 'success' : 'failure' }));
      if (cache === 'hit') add(c, 'cache_hits');
      else if (cache === 'not-acr') add(c, 'not_acr');
      else if (cache !== '-') add(c, seriesKey('cache_misses', { outcome: cache }));
      if (error !== '-') add(c, seriesKey('errors', { class: error }));
      if (error === 'throttled') add(c, seriesKey('throttled', { where: 'final-error' }));
    }
    if (calls === '-') continue;
    for (const call of calls.split(',')) {
      const [action, outcome, ms] = call.split(':');
      if (!action || !outcome || !TOKEN.test(action) || !TOKEN.test(outcome) || !/^\d+$/.test(ms ?? '')) continue;
      add(c, seriesKey('cloud_calls', { action, outcome }));
      add(c, seriesKey('cloud_call_ms', { action }), Number(ms));
      if (outcome === 'throttled') add(c, seriesKey('throttled', { where: 'cloud-call' }));
    }
  }
}

/** A totals file is a few KiB; a journal is compacted at 4 MiB at the latest. */
const MAX_TOTALS_BYTES = 1024 * 1024;
const MAX_JOURNAL_BYTES = 64 * 1024 * 1024;
/** Counter files are ours and private; anything else in metrics/ is ignored, never followed. */
const COUNTER_FILE: FileRule = { owner: 'self', private: true, noFollow: true };

export function readTotals(metrics: TrustedDir): Totals | undefined {
  try {
    const doc = JSON.parse(readRegularFile(metrics.at(TOTALS_FILE), MAX_TOTALS_BYTES, COUNTER_FILE).toString('utf8')) as Partial<Totals>;
    if (doc.version !== 1 || typeof doc.since !== 'number' || typeof doc.counters !== 'object' || doc.counters === null || !Array.isArray(doc.consumed)) return undefined;
    const counters: Counters = {};
    for (const [k, v] of Object.entries(doc.counters)) if (typeof v === 'number' && Number.isFinite(v) && v >= 0) counters[k] = v;
    return { version: 1, since: doc.since, counters, consumed: doc.consumed.filter((n): n is string => typeof n === 'string' && SET_ASIDE.test(n)) };
  } catch {
    return undefined;
  }
}

function writeTotals(metrics: TrustedDir, totals: Totals): void {
  replaceFileAtomically(metrics, TOTALS_FILE, JSON.stringify(totals), 0o600);
}

function readText(metrics: TrustedDir, name: string): string | undefined {
  try {
    return readRegularFile(metrics.at(name), MAX_JOURNAL_BYTES, COUNTER_FILE).toString('latin1');
  } catch {
    return undefined;
  }
}

/** The cache's metrics/ directory, opened and checked (created when missing). */
function openMetrics(cache: TrustedDir): TrustedDir | undefined {
  const check = cacheSubdir(cache, METRICS_DIR);
  return check.usable ? check.dir : undefined;
}

/**
 * Folds quiet set-aside journals into totals.json. Returns false when another process holds
 * the lock (or metrics/ cannot be used): the caller simply reads without compacting.
 */
export function compact(cache: TrustedDir, now = Date.now()): boolean {
  const metrics = openMetrics(cache);
  if (!metrics) return false;
  try {
    return compactIn(metrics, now);
  } finally {
    metrics.close();
  }
}

function compactIn(metrics: TrustedDir, now: number): boolean {
  const lock = metrics.at('compact.lock');
  if (!takeDirLock(lock, LOCK_STALE_MS)) return false;
  try {
    const totals = readTotals(metrics) ?? { version: 1, since: now, counters: {}, consumed: [] };
    // (4, left over) forget consumed files that are gone; delete those that are not.
    const before = totals.consumed.length;
    totals.consumed = totals.consumed.filter((name) => !unlinkQuietly(metrics.at(name)));
    // (1) set the live journal aside.
    try {
      renameSync(metrics.at(JOURNAL_FILE), metrics.at(`journal.${now}.${process.pid}.old`));
    } catch {
      // no journal yet
    }
    // (2) fold quiet set-aside journals.
    const folded: string[] = [];
    for (const name of readdirSync(metrics.self())) {
      const m = SET_ASIDE.exec(name);
      if (!m || totals.consumed.includes(name)) continue;
      let mtime: number;
      try {
        mtime = lstatSync(metrics.at(name)).mtimeMs;
      } catch {
        continue;
      }
      if (now - Number(m[1]) < QUIET_MS || now - mtime < QUIET_MS) continue;
      const text = readText(metrics, name);
      if (text === undefined) continue;
      foldJournal(text, totals.counters);
      folded.push(name);
    }
    if (folded.length === 0 && totals.consumed.length === before && readTotals(metrics) !== undefined) return true;
    totals.consumed.push(...folded);
    // (3) totals first, then (4) the files.
    writeTotals(metrics, totals);
    const kept = totals.consumed.filter((name) => !unlinkQuietly(metrics.at(name)));
    if (kept.length !== totals.consumed.length) writeTotals(metrics, { ...totals, consumed: kept });
    return true;
  } catch {
    return false;
  } finally {
    try {
      rmdirSync(lock);
    } catch {
      // taken over as stale meanwhile
    }
  }
}

/** True when the file is gone afterwards. */
function unlinkQuietly(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

export interface CounterSnapshot {
  since: number | undefined;
  counters: Counters;
}

/** Totals plus every journal line not yet folded in: the counters as of now. */
export function readCounters(cacheDir: string): CounterSnapshot {
  // Only a cache directory the provider itself would trust (0700, ours, checked up to /) holds
  // real counters; nothing is created here.
  const check = checkCacheDir(cacheDir);
  if (!check.usable) return { since: undefined, counters: {} };
  try {
    const metrics = openTrustedSubdir(check.dir, METRICS_DIR, { owner: 'self', mode: 'private', create: false });
    try {
      return readCountersIn(metrics);
    } finally {
      metrics.close();
    }
  } catch {
    return { since: undefined, counters: {} };
  } finally {
    check.dir.close();
  }
}

function readCountersIn(metrics: TrustedDir): CounterSnapshot {
  const lock = metrics.at('compact.lock');
  // Compact first when possible; then read under the lock so that no compaction moves lines
  // between totals and journals while we read.
  compactIn(metrics, Date.now());
  const locked = waitForLock(lock);
  try {
    const totals = readTotals(metrics);
    const counters: Counters = { ...(totals?.counters ?? {}) };
    let oldest: number | undefined = totals?.since;
    for (const name of readdirSync(metrics.self())) {
      const m = SET_ASIDE.exec(name);
      if (name !== JOURNAL_FILE && (!m || totals?.consumed.includes(name))) continue;
      const text = readText(metrics, name);
      if (text === undefined) continue;
      foldJournal(text, counters);
      if (oldest === undefined) {
        try {
          const st = lstatSync(metrics.at(name));
          oldest = st.birthtimeMs || st.ctimeMs;
        } catch {
          // vanished
        }
      }
    }
    return { since: oldest, counters };
  } finally {
    if (locked) {
      try {
        rmdirSync(lock);
      } catch {
        // nothing to release
      }
    }
  }
}

function waitForLock(lock: string): boolean {
  const until = Date.now() + 2000;
  for (;;) {
    if (takeDirLock(lock, LOCK_STALE_MS)) return true;
    if (Date.now() >= until) return false;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}
