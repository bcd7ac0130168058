// Many processes writing and reading one cache key at once: every read is either nothing or
// one complete value that some process wrote, never a torn mixture.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastJson, runFixture } from './fixtures/spawn.ts';

interface WorkerStats {
  worker: string;
  writes: number;
  reads: number;
  undefinedReads: number;
  goodReads: number;
  badReads: number;
  foreignReads: number;
  ignored: number;
  ignoredReasons: string[];
  errors: string[];
}

const WORKERS = 8;

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'acr-concurrency-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('openCacheStore across processes', () => {
  it(`${WORKERS} processes set and get one key for ~1 s: no torn reads`, { timeout: 60_000 }, async () => {
    const runs = Array.from({ length: WORKERS }, (_, i) => runFixture('store-worker.ts', [dir, 'token:shared', String(i), '1000']));
    const done = await Promise.all(runs.map((r) => r.finished));
    const stats = done.map((f) => {
      assert.equal(f.code, 0, `worker failed: ${f.stderr}`);
      assert.equal(f.stderr, '', 'nothing on stderr (no stack traces from the store)');
      return lastJson<WorkerStats>(f);
    });
    let reads = 0;
    let foreign = 0;
    for (const s of stats) {
      assert.deepEqual(s.errors, [], `worker ${s.worker} errors`);
      assert.ok(s.writes > 0, `worker ${s.worker} wrote nothing`);
      assert.equal(s.badReads, 0, `worker ${s.worker} saw a torn or mixed value`);
      assert.equal(s.ignored, 0, `worker ${s.worker} ignored files: ${s.ignoredReasons.join('; ')}`);
      assert.equal(s.reads, s.undefinedReads + s.goodReads);
      reads += s.reads;
      foreign += s.foreignReads;
    }
    assert.ok(reads > WORKERS * 10, `too few reads to mean anything: ${reads}`);
    // The processes really did overlap: someone read another's value.
    assert.ok(foreign > 0, 'no process ever read a value written by another');
    // Only the one entry file remains: no temp files left behind, and it is 0600.
    const files = readdirSync(dir);
    assert.deepEqual(files, ['v1_3atoken_3ashared']);
    assert.equal(statSync(join(dir, files[0] ?? '')).mode & 0o777, 0o600);
  });
});
