// Issue 9, point 2: `metrics --textfile` writes into node-exporter's directory, which often belongs
// to another user. A symlink planted at the file name is replaced, never followed; a directory that
// others can write to (and that is not sticky and ours) is refused.
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertOneLineFailure } from '../helpers/run-provider.ts';
import { assertExitedInTime, attacker, attackerDir, listTree, runWithinBudget, snapshot, stickyDir, withAttackedNode } from './helpers.ts';

describe('metrics --textfile', () => {
  it('a symlink planted at the textfile name is replaced by a new file, its target untouched', () =>
    withAttackedNode(async (c) => {
      const victim = join(c.dir, 'victim.conf');
      writeFileSync(victim, 'root-only content\n', { mode: 0o600 });
      const before = snapshot(victim);
      const textDir = attackerDir(join(c.dir, 'node-exporter'), 0o755);
      const textfile = join(textDir, 'acr.prom');
      attacker(['ln', '-s', victim, textfile]);

      const r = await runWithinBudget({ args: ['metrics', '--textfile', textfile, '--config', c.configPath] });
      assertExitedInTime(r, 'metrics --textfile');
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(snapshot(victim), before, 'the symlink target is unchanged');
      const st = lstatSync(textfile);
      assert.ok(st.isFile(), 'the symlink was replaced by a regular file');
      assert.equal(st.mode & 0o777, 0o644);
      assert.match(readFileSync(textfile, 'utf8'), /^# HELP aliyun_acr_credential_provider_/m);
    }));

  it('a directory others can write to (0777, not sticky) is refused and left alone', () =>
    withAttackedNode(async (c) => {
      const textDir = join(c.dir, 'open');
      mkdirSync(textDir);
      chmodSync(textDir, 0o777);
      const before = listTree(textDir);
      const r = await runWithinBudget({ args: ['metrics', '--textfile', join(textDir, 'acr.prom'), '--config', c.configPath] });
      assertExitedInTime(r, 'metrics --textfile');
      assert.deepEqual(listTree(textDir), before, 'nothing written in a directory others can write');
      assertOneLineFailure(r, /writable by others/);
    }));

  it('a textfile directory reached through a symlink planted in a sticky directory is refused', () =>
    withAttackedNode(async (c) => {
      const tmp = stickyDir(join(c.dir, 'tmp'));
      const elsewhere = join(c.dir, 'root-only');
      mkdirSync(elsewhere, { mode: 0o700 });
      attacker(['ln', '-s', elsewhere, join(tmp, 'textfiles')]);
      const before = listTree(elsewhere);
      const r = await runWithinBudget({ args: ['metrics', '--textfile', join(tmp, 'textfiles', 'acr.prom'), '--config', c.configPath] });
      assertExitedInTime(r, 'metrics --textfile');
      assert.deepEqual(listTree(elsewhere), before, 'nothing written behind the planted link');
      assertOneLineFailure(r, /symbolic link owned by uid 1000/);
    }));
});
