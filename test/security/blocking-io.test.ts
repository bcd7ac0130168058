// Issue 9, point 4: nothing blocks past the deadline. FIFOs where the provider expects a regular
// file (log file, counters journal, token file, config), a stdin that never closes, /dev/zero as the
// config, a multi-GB cache file and 50 MB API bodies: every run ends by itself within
// --timeout + 2 s, and the oversized bodies are not read to the end.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertCredentials } from '../helpers/assert-response.ts';
import { eeHost, PE_HOST, type Cloud } from '../helpers/cloud.ts';
import { assertOneLineFailure, kubeletRequest, writeConfig } from '../helpers/run-provider.ts';
import { identityConfig } from '../identity/fixtures.ts';
import { assertExitedInTime, runWithinBudget, TIMEOUT_S, withAttackedNode } from './helpers.ts';

const IMAGE = `${PE_HOST}/ns/app`;
const FIFTY_MB = 50 * 1024 * 1024;
/** What a client that stops reading at a 1 MiB cap can have accepted, socket buffers included. */
const ACCEPTED_BEFORE_HANGUP = 16 * 1024 * 1024;

function mkfifo(path: string): void {
  execFileSync('mkfifo', ['-m', '600', path]);
}

function run(c: Cloud, args: string[] = [], stdin = kubeletRequest(IMAGE), env?: Record<string, string>) {
  return runWithinBudget({ args: ['--config', c.configPath, '--timeout', `${TIMEOUT_S}s`, ...args], stdin, ...(env ? { env } : {}) });
}

/** Fills the cache; returns the token file. */
async function primedTokenFile(c: Cloud): Promise<string> {
  assertCredentials(await run(c), c.e, { host: PE_HOST });
  const name = readdirSync(c.cacheDir).find((n) => lstatSync(join(c.cacheDir, n)).isFile());
  assert.ok(name, 'a token file');
  return join(c.cacheDir, name);
}

describe('FIFOs where a regular file belongs', () => {
  it('--log-file is a FIFO: credentials served, no hang', () =>
    withAttackedNode(async (c) => {
      const fifo = join(c.dir, 'provider.log');
      mkfifo(fifo);
      const r = await run(c, ['--log-file', fifo, '--log-level', 'info']);
      assertExitedInTime(r, 'FIFO log file');
      assertCredentials(r, c.e, { host: PE_HOST, quiet: false });
      assert.match(r.stderr, /not a regular file/);
    }));

  it('metrics/journal.log is a FIFO: credentials served, no hang', () =>
    withAttackedNode(async (c) => {
      await primedTokenFile(c);
      const journal = join(c.cacheDir, 'metrics', 'journal.log');
      rmSync(journal, { force: true });
      mkfifo(journal);
      const r = await run(c);
      assertExitedInTime(r, 'FIFO journal');
      assertCredentials(r, c.e, { host: PE_HOST });
    }));

  it('the token file is a FIFO: ignored, refetched and replaced by a regular file', () =>
    withAttackedNode(async (c) => {
      const file = await primedTokenFile(c);
      rmSync(file);
      mkfifo(file);
      const r = await run(c);
      assertExitedInTime(r, 'FIFO token file');
      assertCredentials(r, c.e, { host: PE_HOST, quiet: false });
      assert.ok(lstatSync(file).isFile(), 'the FIFO was replaced by a token file');
    }));

  it('ALIBABA_CLOUD_CREDENTIALS_FILE is a FIFO: one line, no hang', () =>
    withAttackedNode(async (c) => {
      const fifo = join(c.dir, 'credentials');
      mkfifo(fifo);
      const r = await run(c, [], kubeletRequest(IMAGE), { ALIBABA_CLOUD_CREDENTIALS_FILE: fifo, ALIBABA_CLOUD_PROFILE: 'ci' });
      assertExitedInTime(r, 'FIFO credentials file');
      assertOneLineFailure(r, /credentials: the file is not a regular file/);
    }));

  it('the CLI config (.aliyun/config.json) is a FIFO: one line, no hang', () =>
    withAttackedNode(async (c) => {
      mkdirSync(join(c.dir, 'home', '.aliyun'), { recursive: true });
      const fifo = join(c.dir, 'home', '.aliyun', 'config.json');
      mkfifo(fifo);
      const config = writeConfig(c.dir, c.e, { credentials: { source: 'profile', file: fifo } }, 'cli.json');
      const r = await runWithinBudget({ args: ['--config', config, '--timeout', `${TIMEOUT_S}s`], stdin: kubeletRequest(IMAGE) });
      assertExitedInTime(r, 'FIFO CLI config');
      assertOneLineFailure(r, /config\.json: the file is not a regular file/);
    }));

  it('--config is a FIFO nobody writes: one line, no hang', () =>
    withAttackedNode(async (c) => {
      const fifo = join(c.dir, 'config.fifo');
      mkfifo(fifo);
      const r = await runWithinBudget({ args: ['--config', fifo, '--timeout', `${TIMEOUT_S}s`], stdin: kubeletRequest(IMAGE) });
      assertExitedInTime(r, 'FIFO config');
      assertOneLineFailure(r, /config file .* is not a regular file/);
    }));
});

describe('endless or huge input', () => {
  it('--config /dev/zero: one line, no hang, no memory blow-up', () =>
    withAttackedNode(async () => {
      const r = await runWithinBudget({ args: ['--config', '/dev/zero', '--timeout', `${TIMEOUT_S}s`], stdin: kubeletRequest(IMAGE) });
      assertExitedInTime(r, '--config /dev/zero');
      assertOneLineFailure(r, /config file \/dev\/zero is not a regular file/);
    }));

  it('a config file larger than the cap is refused without reading it all', () =>
    withAttackedNode(async (c) => {
      const big = join(c.dir, 'big.yaml');
      writeFileSync(big, '# padding\n');
      truncateSync(big, 3 * 1024 ** 3);
      const r = await runWithinBudget({ args: ['--config', big, '--timeout', `${TIMEOUT_S}s`], stdin: kubeletRequest(IMAGE) });
      assertExitedInTime(r, '3 GB config');
      assertOneLineFailure(r, /config file .* is larger than/);
    }));

  it('a stdin that is never closed: the deadline ends the run with one line', () =>
    withAttackedNode(async (c) => {
      const r = await runWithinBudget({ args: ['--config', c.configPath, '--timeout', `${TIMEOUT_S}s`], stdin: kubeletRequest(IMAGE), keepStdinOpen: true });
      assertExitedInTime(r, 'stdin never closed');
      assertOneLineFailure(r, /stdin.*within the 4s deadline/);
    }));

  it('a stdin that never sends anything and is never closed: the deadline ends the run', () =>
    withAttackedNode(async (c) => {
      const r = await runWithinBudget({ args: ['--config', c.configPath, '--timeout', `${TIMEOUT_S}s`], keepStdinOpen: true });
      assertExitedInTime(r, 'silent stdin');
      assertOneLineFailure(r, /stdin.*within the 4s deadline/);
    }));

  it('a 3 GB (sparse) token file: ignored without reading it, refetched and replaced', () =>
    withAttackedNode(async (c) => {
      const file = await primedTokenFile(c);
      truncateSync(file, 3 * 1024 ** 3);
      const r = await run(c);
      assertExitedInTime(r, '3 GB token file');
      assertCredentials(r, c.e, { host: PE_HOST, quiet: false });
      assert.ok(lstatSync(file).size < 64 * 1024, 'replaced by a small token file');
    }));
});

describe('oversized API bodies are not read to the end', () => {
  it('a 50 MB CR GetAuthorizationToken body: one line, and the provider hung up early', () =>
    withAttackedNode(async (c) => {
      const accepted: number[] = [];
      c.e.cr.injectFault('GetAuthorizationToken', { times: Infinity, oversizedBody: { bytes: FIFTY_MB, bytesSent: (n) => accepted.push(n) } });
      const r = await run(c);
      assertExitedInTime(r, '50 MB CR body');
      assert.ok(accepted.length > 0, 'the CR API was called');
      assert.ok(Math.max(...accepted) < ACCEPTED_BEFORE_HANGUP, `the provider read ${Math.max(...accepted)} bytes of a 50 MB body`);
      assertOneLineFailure(r, /larger than 1 MiB/);
    }));

  it('a 50 MB STS AssumeRole body: one line, and the provider hung up early', () =>
    withAttackedNode(
      async (c) => {
        const host = eeHost('acme-b');
        c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme-b', accountId: '2222222222222222' });
        const role = c.e.state.addRole({ name: 'acr-cross-pull', accountId: '2222222222222222', trust: { principals: ['role/acr-node-role'] } });
        const config = identityConfig(c, { timeout: `${TIMEOUT_S}s`, registries: [{ domains: [host], assumeRole: { roleArn: role.arn } }] });
        const accepted: number[] = [];
        c.e.sts!.injectFault('AssumeRole', { times: Infinity, oversizedBody: { bytes: FIFTY_MB, bytesSent: (n) => accepted.push(n) } });
        const r = await runWithinBudget({ args: ['--config', config], stdin: kubeletRequest(`${host}/team/app`) });
        assertExitedInTime(r, '50 MB STS body');
        assert.ok(accepted.length > 0, 'STS was called');
        assert.ok(Math.max(...accepted) < ACCEPTED_BEFORE_HANGUP, `the provider read ${Math.max(...accepted)} bytes of a 50 MB body`);
        assertOneLineFailure(r, /larger than 1 MiB/);
      },
      { sts: true },
    ));
});
