// Issue 9, point 6: the log file names hosts, roles and errors. One that another user created
// first (so that they can read what root appends) is refused, and a log directory that another
// user owns gets no file at all.
import assert from 'node:assert/strict';
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertCredentials } from '../helpers/assert-response.ts';
import { PE_HOST } from '../helpers/cloud.ts';
import { kubeletRequest } from '../helpers/run-provider.ts';
import { assertExitedInTime, assertUntouched, attacker, attackerDir, ATTACKER_UID, listTree, readAsAttacker, runWithinBudget, stickyDir, TIMEOUT_S, withAttackedNode } from './helpers.ts';

describe('the log file', () => {
  it('a log file another user created first in a sticky directory is refused: they read nothing', () =>
    withAttackedNode(async (c) => {
      const tmp = stickyDir(join(c.dir, 'tmp'));
      const log = join(tmp, 'acr.log');
      attacker(['sh', '-c', `umask 022; : > ${log}`]);
      const r = await runWithinBudget({ args: ['--config', c.configPath, '--log-file', log, '--log-level', 'info', '--timeout', `${TIMEOUT_S}s`], stdin: kubeletRequest(`${PE_HOST}/ns/app`) });
      assertExitedInTime(r, 'foreign log file');
      assertCredentials(r, c.e, { host: PE_HOST, quiet: false });
      assert.equal(readAsAttacker(log), '', 'the attacker\'s file got no log line');
      assert.equal(lstatSync(log).uid, ATTACKER_UID);
      assert.match(r.stderr, /log file .* is owned by uid 1000/);
    }));

  it('a log directory another user owns gets no file', () =>
    withAttackedNode(async (c) => {
      const dir = attackerDir(join(c.dir, 'logs'), 0o755);
      const before = listTree(dir);
      const r = await runWithinBudget({ args: ['--config', c.configPath, '--log-file', join(dir, 'acr.log'), '--log-level', 'info', '--timeout', `${TIMEOUT_S}s`], stdin: kubeletRequest(`${PE_HOST}/ns/app`) });
      assertExitedInTime(r, 'foreign log directory');
      assertCredentials(r, c.e, { host: PE_HOST, quiet: false });
      assertUntouched(before, dir, 'log directory of another user');
      assert.match(r.stderr, /owned by uid 1000/);
    }));
});
