// Counters: the journal line, folding, compaction (nothing lost or counted twice, also with
// processes appending and compacting at once), and the Prometheus exposition.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkCacheDir } from '../../../src/cache/cache-dir.ts';
import { openTrustedSubdir, type TrustedDir } from '../../../src/fs/trusted-dir.ts';
import { compact, foldJournal, readCounters, readTotals, type Counters } from '../../../src/metrics/counters.ts';
import { appendToJournal, journalLine, journalPath, prewarmJournalLine } from '../../../src/metrics/journal.ts';
import { escapeLabelValue, parseSeriesKey, renderPrometheus } from '../../../src/metrics/prometheus.ts';

const fixture = new URL('./fixtures/journal-writer.ts', import.meta.url).pathname;

function cacheDir(): string {
  const root = mkdtempSync(join(tmpdir(), 'acr-metrics-'));
  const dir = join(root, 'cache');
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

/** The cache directory as the provider holds it: opened and checked. */
function opened(dir: string): TrustedDir {
  const check = checkCacheDir(dir);
  assert.ok(check.usable, check.usable ? '' : check.reason);
  return check.dir;
}

function totalsOf(dir: string) {
  const metrics = openTrustedSubdir(opened(dir), 'metrics', { owner: 'self', mode: 'private', create: false });
  try {
    return readTotals(metrics);
  } finally {
    metrics.close();
  }
}

describe('journal lines', () => {
  it('carry result, cache outcome, error class and calls, and nothing else', () => {
    const line = journalLine(
      { host: 'secret-looking-host.example', registryKind: 'enterprise', cache: 'refreshed', calls: [{ action: 'ListInstance', outcome: 'ok', ms: 3.4 }, { action: 'GetAuthorizationToken', outcome: 'throttled', ms: 20 }] },
      true,
    );
    assert.equal(line, '1 ok refreshed - ListInstance:ok:3,GetAuthorizationToken:throttled:20\n');
    assert.equal(journalLine({ calls: [], registryKind: 'personal', errorClass: 'network' }, false), '1 fail failed network -\n');
    assert.equal(journalLine({ calls: [], registryKind: 'personal-dedicated', errorClass: 'unsupported' }, false), '1 fail - unsupported -\n');
    assert.equal(journalLine({ calls: [], errorClass: 'input' }, false), '1 fail - input -\n');
  });

  it('drop values that are not plain tokens (no injection of lines or fields)', () => {
    const line = journalLine({ calls: [{ action: 'Bad Action\n1 ok hit', outcome: 'ok', ms: 1 }], cache: 'hit', errorClass: 'x y' }, true);
    assert.equal(line, '1 ok hit - -\n');
  });

  it('fold into counters; malformed lines are counted apart', () => {
    const c: Counters = {};
    foldJournal(['1 ok hit - -', '1 ok refreshed - GetAuthorizationToken:ok:10,ListInstance:throttled:4', '1 fail failed throttled GetAuthorizationToken:throttled:7', '1 ok not-acr - -', 'garbage', '1 ok hit', '2 ok hit - -', ''].join('\n'), c);
    assert.deepEqual(c, {
      'invocations{result="success"}': 3,
      'invocations{result="failure"}': 1,
      cache_hits: 1,
      not_acr: 1,
      'cache_misses{outcome="refreshed"}': 1,
      'cache_misses{outcome="failed"}': 1,
      'cloud_calls{action="GetAuthorizationToken",outcome="ok"}': 1,
      'cloud_calls{action="GetAuthorizationToken",outcome="throttled"}': 1,
      'cloud_calls{action="ListInstance",outcome="throttled"}': 1,
      'cloud_call_ms{action="GetAuthorizationToken"}': 17,
      'cloud_call_ms{action="ListInstance"}': 4,
      'errors{class="throttled"}': 1,
      'throttled{where="cloud-call"}': 2,
      'throttled{where="final-error"}': 1,
      journal_lines_invalid: 3,
    });
  });
});

describe('pre-warmer lines', () => {
  it('count refreshes by result and their cloud calls, but no invocation, hit, miss or error', () => {
    const ok = prewarmJournalLine([{ action: 'metadata-credentials', outcome: '200', ms: 2 }, { action: 'GetAuthorizationToken', outcome: 'ok', ms: 9 }], undefined);
    const failed = prewarmJournalLine([{ action: 'GetAuthorizationToken', outcome: 'throttled', ms: 5 }], 'throttled');
    assert.equal(ok, '1 ok prewarm - metadata-credentials:200:2,GetAuthorizationToken:ok:9\n');
    assert.equal(failed, '1 fail prewarm throttled GetAuthorizationToken:throttled:5\n');
    const c: Counters = {};
    foldJournal(ok + failed, c);
    assert.deepEqual(c, {
      'prewarm_refreshes{result="success"}': 1,
      'prewarm_refreshes{result="failure"}': 1,
      'cloud_calls{action="metadata-credentials",outcome="200"}': 1,
      'cloud_calls{action="GetAuthorizationToken",outcome="ok"}': 1,
      'cloud_calls{action="GetAuthorizationToken",outcome="throttled"}': 1,
      'cloud_call_ms{action="metadata-credentials"}': 2,
      'cloud_call_ms{action="GetAuthorizationToken"}': 14,
      'throttled{where="cloud-call"}': 1,
    });
    assert.match(renderPrometheus({ counters: c, since: undefined }), /^aliyun_acr_credential_provider_prewarm_refreshes_total\{result="failure"\} 1$/m);
  });
});

describe('journal files', () => {
  it('metrics/ is created 0700 and the journal 0600; a journal or metrics/ that is not private gets no line', () => {
    const dir = cacheDir();
    try {
      assert.equal(appendToJournal(opened(dir), '1 ok hit - -\n'), 13);
      assert.equal(statSync(join(dir, 'metrics')).mode & 0o777, 0o700);
      assert.equal(statSync(journalPath(dir)).mode & 0o777, 0o600);
      // A journal that is not a regular private file of ours gets no line.
      chmodSync(journalPath(dir), 0o644);
      assert.equal(appendToJournal(opened(dir), '1 ok hit - -\n'), undefined, 'a journal others can read');
      assert.equal(readFileSync(journalPath(dir), 'utf8'), '1 ok hit - -\n');
      chmodSync(join(dir, 'metrics'), 0o755);
      assert.equal(appendToJournal(opened(dir), '1 ok hit - -\n'), undefined, 'a metrics/ others can read');
    } finally {
      rmSync(join(dir, '..'), { recursive: true, force: true });
    }
  });

  it('compaction folds quiet journals into totals.json and removes them; reading adds what is not folded yet', () => {
    const dir = cacheDir();
    try {
      for (let i = 0; i < 5; i++) appendToJournal(opened(dir), journalLine({ calls: [], cache: 'hit' }, true));
      const t0 = Date.now();
      assert.equal(compact(opened(dir), t0), true);
      // Just set aside: not folded yet (a writer may still be appending to it).
      assert.equal(totalsOf(dir)?.counters.cache_hits, undefined);
      assert.equal(readCounters(dir).counters.cache_hits, 5, 'readers count set-aside lines');
      appendToJournal(opened(dir), journalLine({ calls: [], cache: 'hit' }, true));
      for (const n of readdirSync(join(dir, 'metrics'))) if (n.endsWith('.old')) utimesSync(join(dir, 'metrics', n), new Date(t0 - 10_000), new Date(t0 - 10_000));
      assert.equal(compact(opened(dir), t0 + 5000), true);
      const totals = totalsOf(dir);
      assert.equal(totals?.counters.cache_hits, 5);
      assert.ok(!readdirSync(join(dir, 'metrics')).some((n) => n === `${totals?.consumed[0]}`), 'folded journals are deleted');
      assert.equal(readCounters(dir).counters.cache_hits, 6);
      assert.equal(statSync(join(dir, 'metrics', 'totals.json')).mode & 0o777, 0o600);
    } finally {
      rmSync(join(dir, '..'), { recursive: true, force: true });
    }
  });

  it('a crash between writing totals and deleting a folded journal never counts it twice', () => {
    const dir = cacheDir();
    try {
      const m = join(dir, 'metrics');
      mkdirSync(m, { mode: 0o700 });
      const name = 'journal.1000.1.old';
      writeFileSync(join(m, name), '1 ok hit - -\n1 ok hit - -\n', { mode: 0o600 });
      // As left by a compaction that wrote totals (with the file consumed) and then died.
      writeFileSync(join(m, 'totals.json'), JSON.stringify({ version: 1, since: 1, counters: { cache_hits: 2 }, consumed: [name] }), { mode: 0o600 });
      assert.equal(readCounters(dir).counters.cache_hits, 2);
      compact(opened(dir));
      assert.equal(readCounters(dir).counters.cache_hits, 2);
      assert.ok(!readdirSync(m).includes(name));
    } finally {
      rmSync(join(dir, '..'), { recursive: true, force: true });
    }
  });

  it('a damaged totals.json is ignored, not fatal', () => {
    const dir = cacheDir();
    try {
      appendToJournal(opened(dir), '1 ok hit - -\n');
      writeFileSync(join(dir, 'metrics', 'totals.json'), '{"version":1,"since":', { mode: 0o600 });
      assert.equal(readCounters(dir).counters.cache_hits, 1);
    } finally {
      rmSync(join(dir, '..'), { recursive: true, force: true });
    }
  });

  it('6 processes appending 400 lines each while compacting: every line counted exactly once', async () => {
    const dir = cacheDir();
    try {
      appendToJournal(opened(dir), '');
      const procs = 6;
      const per = 400;
      await Promise.all(
        Array.from({ length: procs }, (_, p) =>
          new Promise<void>((resolve, reject) => {
            const child = spawn(process.execPath, [fixture, dir, String(per), p % 2 === 0 ? '50' : '0'], { stdio: 'inherit' });
            child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer exit ${code}`))));
          }),
        ),
      );
      const c = readCounters(dir).counters;
      assert.equal(c['invocations{result="success"}'], procs * per);
      assert.equal(c['cloud_calls{action="GetAuthorizationToken",outcome="ok"}'], procs * per);
      assert.equal(c.journal_lines_invalid, undefined);
      // And once everything is folded: the same numbers from totals alone.
      compact(opened(dir), Date.now() + 60_000);
      assert.equal(totalsOf(dir)?.counters['invocations{result="success"}'], procs * per);
      assert.equal(readCounters(dir).counters['invocations{result="success"}'], procs * per);
    } finally {
      rmSync(join(dir, '..'), { recursive: true, force: true });
    }
  });
});

describe('Prometheus exposition', () => {
  it('HELP and TYPE per family, prefixed names, defaults at 0, seconds from ms, start time', () => {
    const text = renderPrometheus({ since: 1_700_000_000_500, counters: { cache_hits: 3, 'cloud_call_ms{action="ListInstance"}': 1500, 'cloud_calls{action="ListInstance",outcome="ok"}': 2 } });
    const lines = text.trimEnd().split('\n');
    for (const l of lines) assert.match(l, /^(# (HELP|TYPE) aliyun_acr_credential_provider_[a-z_]+ .+|aliyun_acr_credential_provider_[a-z_]+(\{.*\})? [0-9.e+-]+)$/, l);
    assert.ok(lines.includes('# TYPE aliyun_acr_credential_provider_cache_hits_total counter'));
    assert.ok(lines.includes('aliyun_acr_credential_provider_cache_hits_total 3'));
    assert.ok(lines.includes('aliyun_acr_credential_provider_invocations_total{result="success"} 0'));
    assert.ok(lines.includes('aliyun_acr_credential_provider_cloud_call_duration_seconds_total{action="ListInstance"} 1.5'));
    assert.ok(lines.includes('aliyun_acr_credential_provider_cloud_calls_total{action="ListInstance",outcome="ok"} 2'));
    assert.ok(lines.includes('aliyun_acr_credential_provider_counters_start_time_seconds 1700000000'));
    // Every sample's family has exactly one HELP and one TYPE line, before its samples.
    const families = new Set(lines.filter((l) => !l.startsWith('#')).map((l) => /^([a-z_]+)/.exec(l)![1]));
    for (const f of families) {
      assert.equal(lines.filter((l) => l.startsWith(`# HELP ${f} `)).length, 1, f);
      assert.equal(lines.filter((l) => l.startsWith(`# TYPE ${f} `)).length, 1, f);
      assert.ok(f !== undefined);
      assert.ok(lines.indexOf(`# TYPE ${f} ${f.endsWith('_seconds') ? 'gauge' : 'counter'}`) < lines.findIndex((l) => l.startsWith(f)), f);
    }
  });

  it('label values are escaped (backslash, quote, newline)', () => {
    assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
    assert.deepEqual(parseSeriesKey('errors{class="network"}'), { name: 'errors', labels: { class: 'network' } });
    const text = renderPrometheus({ since: undefined, counters: { 'errors{class="we\\ird"}': 1 } });
    assert.ok(text.includes('aliyun_acr_credential_provider_errors_total{class="we\\\\ird"} 1'));
  });
});
