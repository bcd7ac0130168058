// Issue 9, point 3: the cache directory is opened once and checked up to `/`; every later open is
// relative to that descriptor. A parent that another user can write lets them swap the directory
// (refused outright); a symlink planted in a sticky directory is not followed; token files that are
// symlinks, belong to another user or are readable by others are ignored and replaced, never read
// or written through, and a rewritten file never keeps a pre-existing owner.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertCredentials } from '../helpers/assert-response.ts';
import { PE_HOST, personalTokenCalls, type Cloud } from '../helpers/cloud.ts';
import { kubeletRequest, parseResponse } from '../helpers/run-provider.ts';
import {
  assertExitedInTime,
  assertNoTokenReadableByAttacker,
  assertUntouched,
  ATTACKER_UID,
  attacker,
  attackerDir,
  FIXTURES,
  listTree,
  runWithinBudget,
  snapshot,
  startAttackerProcess,
  stickyDir,
  TIMEOUT_S,
  withAttackedNode,
} from './helpers.ts';

const SWAP_RUNS = 16;
const IMAGE = `${PE_HOST}/ns/app`;

function run(c: Cloud, cacheDir: string) {
  return runWithinBudget({ args: ['--config', c.configPath, '--cache-dir', cacheDir, '--timeout', `${TIMEOUT_S}s`], stdin: kubeletRequest(IMAGE) });
}

/** The file name the token for IMAGE gets (learnt from a scratch cache of root's own). */
async function tokenFileName(c: Cloud): Promise<string> {
  const scratch = join(c.dir, 'scratch-cache');
  const r = await run(c, scratch);
  assertCredentials(r, c.e, { host: PE_HOST });
  const names = readdirSync(scratch).filter((n) => lstatSync(join(scratch, n)).isFile());
  assert.equal(names.length, 1, `one token file expected in ${names.join(', ')}`);
  rmSync(scratch, { recursive: true });
  return names[0]!;
}

describe('the cache directory cannot be swapped under the provider', () => {
  it(`a parent the attacker owns: ${SWAP_RUNS} runs against a symlink swap loop hand them no token and get no write`, () =>
    withAttackedNode(async (c) => {
      const name = await tokenFileName(c);
      const parent = attackerDir(join(c.dir, 'home'), 0o755);
      const cacheDir = join(parent, 'cache');
      const real = join(parent, 'real');
      const mine = attackerDir(join(parent, 'mine'), 0o755);
      // The attacker's copy of the token file: whoever writes through it keeps the attacker as owner.
      attacker(['sh', '-c', `umask 022; echo planted > ${join(mine, name)}`]);
      // A first run as the README suggests; then the attacker moves root's directory aside.
      assertExitedInTime(await run(c, cacheDir), 'first run');
      if (existsSync(cacheDir)) attacker(['mv', cacheDir, real]);
      attacker(['ln', '-s', real, cacheDir]);
      const loop = startAttackerProcess([process.execPath, join(FIXTURES, 'swap-loop.ts'), cacheDir, real, mine]);
      try {
        for (let i = 0; i < SWAP_RUNS; i++) {
          // Time passes: root's cached token is gone, so every run writes one.
          if (existsSync(join(real, name))) rmSync(join(real, name));
          const r = await run(c, cacheDir);
          assertExitedInTime(r, `run ${i}`);
          assertCredentials(r, c.e, { host: PE_HOST, quiet: false });
        }
      } finally {
        await loop.stop();
      }
      assertNoTokenReadableByAttacker(c.e, parent);
      const rootOwned = listTree(parent).filter((e) => e.uid !== ATTACKER_UID);
      assert.deepEqual(rootOwned.map((e) => e.path), [], 'nothing of root under a parent the attacker owns');
    }));

  it('a symlink planted in a sticky directory (like /tmp) pointing at a root-only directory is refused', () =>
    withAttackedNode(async (c) => {
      const tmp = stickyDir(join(c.dir, 'tmp'));
      const rootOnly = join(c.dir, 'root-only');
      mkdirSync(rootOnly, { mode: 0o700 });
      writeFileSync(join(rootOnly, 'keep'), 'x');
      const before = listTree(rootOnly);
      attacker(['ln', '-s', rootOnly, join(tmp, 'acr-cache')]);
      const planted = listTree(tmp);
      const r = await run(c, join(tmp, 'acr-cache'));
      assertExitedInTime(r, 'sticky symlink');
      assertCredentials(r, c.e, { host: PE_HOST, quiet: false });
      assert.deepEqual(listTree(rootOnly), before, 'nothing written behind the planted symlink');
      assertUntouched(planted, tmp, 'sticky directory');
      assert.match(r.stderr, /symbolic link owned by uid 1000/);
    }));

  it('a directory the attacker pre-created in a sticky directory is refused, and nothing is written in it', () =>
    withAttackedNode(async (c) => {
      const tmp = stickyDir(join(c.dir, 'tmp'));
      const cacheDir = join(tmp, 'acr-cache');
      attacker(['mkdir', '-m', '777', cacheDir]);
      attacker(['mkdir', '-m', '777', join(cacheDir, 'metrics'), join(cacheDir, 'locks')]);
      const planted = listTree(tmp);
      const r = await run(c, cacheDir);
      assertExitedInTime(r, 'pre-created in sticky');
      assertCredentials(r, c.e, { host: PE_HOST, quiet: false });
      assertUntouched(planted, tmp, 'attacker-made cache directory');
    }));
});

describe('planted token files in a trusted cache directory', () => {
  /** Fills the cache, then returns the token file and its record with the password replaced. */
  async function plantedRecord(c: Cloud): Promise<{ file: string; record: string }> {
    const first = assertCredentials(await run(c, c.cacheDir), c.e, { host: PE_HOST });
    const name = readdirSync(c.cacheDir).find((n) => lstatSync(join(c.cacheDir, n)).isFile() && readFileSync(join(c.cacheDir, n), 'utf8').includes(first.token.password));
    assert.ok(name);
    const file = join(c.cacheDir, name);
    return { file, record: readFileSync(file, 'utf8').replace(first.token.password, 'planted-password-value') };
  }

  function assertFreshTokenServed(c: Cloud, r: Awaited<ReturnType<typeof run>>, file: string): void {
    assertExitedInTime(r, 'planted token file');
    assert.notEqual(parseResponse(r.stdout).auth?.[PE_HOST]?.password, 'planted-password-value', 'the planted token is not served');
    assertCredentials(r, c.e, { host: PE_HOST, quiet: false });
    assert.equal(personalTokenCalls(c.e), 2, 'the planted file is ignored: a new token is fetched');
    const st = lstatSync(file);
    assert.ok(st.isFile(), 'replaced by a regular file');
    assert.equal(st.uid, 0, 'owned by the provider, whoever owned the file before');
    assert.equal(st.mode & 0o777, 0o600);
  }

  it('a token file that is a symlink is neither read nor written through', () =>
    withAttackedNode(async (c) => {
      const { file, record } = await plantedRecord(c);
      const victim = join(c.dir, 'victim.json');
      writeFileSync(victim, record, { mode: 0o600 });
      const before = snapshot(victim);
      rmSync(file);
      symlinkSync(victim, file);
      const r = await run(c, c.cacheDir);
      assertFreshTokenServed(c, r, file);
      assert.deepEqual(snapshot(victim), before, 'the symlink target is unchanged');
    }));

  it('a token file owned by another user is ignored and replaced by one of ours', () =>
    withAttackedNode(async (c) => {
      const { file, record } = await plantedRecord(c);
      writeFileSync(file, record);
      chownSync(file, ATTACKER_UID, ATTACKER_UID);
      const r = await run(c, c.cacheDir);
      assertFreshTokenServed(c, r, file);
    }));

  it('a token file others can read is ignored and replaced by a 0600 one', () =>
    withAttackedNode(async (c) => {
      const { file, record } = await plantedRecord(c);
      writeFileSync(file, record);
      chmodSync(file, 0o644);
      const r = await run(c, c.cacheDir);
      assertFreshTokenServed(c, r, file);
    }));

  it('a stale token file of another user: the refreshed token does not keep their ownership', () =>
    withAttackedNode(async (c) => {
      const { file } = await plantedRecord(c);
      const doc = JSON.parse(readFileSync(file, 'utf8')) as { value: string };
      // Keyv stores the entry as a JSON string: make it due for refresh, still valid.
      const inner = JSON.parse(doc.value) as { value: { refreshAt: number } };
      inner.value.refreshAt = Date.now() - 1000;
      writeFileSync(file, JSON.stringify({ ...doc, value: JSON.stringify(inner) }));
      chownSync(file, ATTACKER_UID, ATTACKER_UID);
      const r = await run(c, c.cacheDir);
      assertExitedInTime(r, 'stale foreign token file');
      assertCredentials(r, c.e, { host: PE_HOST, quiet: false });
      const st = lstatSync(file);
      assert.equal(st.uid, 0, 'the rewritten token file is root\'s, not the previous owner\'s');
      assert.equal(st.mode & 0o777, 0o600);
    }));
});
