// Issue 9, point 1: a cache directory the provider refuses gets no write at all. Not the counters
// journal, not its compaction (which used to follow a planted totals.json symlink and overwrite any
// file as root), not a lock or a claim marker.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { assertCredentials } from '../helpers/assert-response.ts';
import { PE_HOST } from '../helpers/cloud.ts';
import { kubeletRequest } from '../helpers/run-provider.ts';
import { assertExitedInTime, assertUntouched, attacker, attackerDir, listTree, runWithinBudget, snapshot, TIMEOUT_S, withAttackedNode } from './helpers.ts';

/** A journal big enough that a cache miss compacts it (past 256 KiB). */
const BIG_JOURNAL = '1 ok hit - -\n'.repeat(300 * 1024 / 13);

describe('a refused cache directory gets no write at all', () => {
  it('cache directory owned by another user, with a planted totals.json symlink and a grown journal', () =>
    withAttackedNode(async (c) => {
      const victim = join(c.dir, 'victim.conf');
      writeFileSync(victim, 'root-only content\n', { mode: 0o600 });
      const before = snapshot(victim);
      const cacheDir = attackerDir(join(c.dir, 'attacker-cache'), 0o700);
      attacker(['mkdir', '-m', '700', join(cacheDir, 'metrics'), join(cacheDir, 'locks')]);
      writeFileSync(join(c.dir, 'journal.txt'), BIG_JOURNAL);
      attacker(['cp', join(c.dir, 'journal.txt'), join(cacheDir, 'metrics', 'journal.log')]);
      attacker(['ln', '-s', victim, join(cacheDir, 'metrics', 'totals.json')]);
      const planted = listTree(cacheDir);

      const r = await runWithinBudget({ args: ['--config', c.configPath, '--cache-dir', cacheDir, '--timeout', `${TIMEOUT_S}s`], stdin: kubeletRequest(`${PE_HOST}/ns/app`) });
      assertExitedInTime(r, 'refused cache directory');
      assertCredentials(r, c.e, { host: PE_HOST, quiet: false });
      assert.match(r.stderr, /owned by uid 1000/, 'the refusal says why');
      assert.deepEqual(snapshot(victim), before, 'the file behind the planted totals.json symlink is unchanged');
      assertUntouched(planted, cacheDir, 'refused cache directory');
    }));

  it('cache directory of ours that others can write (0777), with a metrics/ planted in it: no journal line', () =>
    withAttackedNode(async (c) => {
      const cacheDir = join(c.dir, 'open-cache');
      mkdirSync(cacheDir);
      chmodSync(cacheDir, 0o777);
      attacker(['mkdir', '-m', '777', join(cacheDir, 'metrics')]);
      const planted = listTree(cacheDir);
      const r = await runWithinBudget({ args: ['--config', c.configPath, '--cache-dir', cacheDir, '--timeout', `${TIMEOUT_S}s`], stdin: kubeletRequest(`${PE_HOST}/ns/app`) });
      assertExitedInTime(r, 'world-writable cache directory');
      assertCredentials(r, c.e, { host: PE_HOST, quiet: false });
      assertUntouched(planted, cacheDir, 'world-writable cache directory');
    }));
});
