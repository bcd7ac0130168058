// sync-config: rewrites the node file when the validated source changes (including a ConfigMap
// style symlink swap), ignores invalid content, stops on abort.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HostFs } from '../../src/install/host-fs.ts';
import { NODE_PROVIDER_CONFIG } from '../../src/install/paths.ts';
import { runSyncConfig, syncOnce } from '../../src/install/sync-config.ts';
import { BUNDLE, cleanup, makeHost, modeOf, readHost, tempDir } from './helpers.ts';

after(cleanup);

async function until(check: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('sync-config', () => {
  it('one pass: writes valid content as JSON 0644, then reports unchanged', async () => {
    const root = makeHost({ '/etc/hostname': 'n\n' });
    const src = join(tempDir(), 'config.yaml');
    writeFileSync(src, 'cr:\n  network: vpc\n');
    const logs: string[] = [];
    const opts = { fs: new HostFs(root), source: src, nodePath: NODE_PROVIDER_CONFIG, log: (_l: string, line: string) => logs.push(line) };
    assert.equal((await syncOnce(opts)).result, 'written');
    assert.deepEqual(JSON.parse(readHost(root, NODE_PROVIDER_CONFIG)), { cr: { network: 'vpc' } });
    assert.equal(modeOf(root, NODE_PROVIDER_CONFIG), 0o644);
    assert.equal((await syncOnce(opts)).result, 'unchanged');
  });

  it('loop: follows a ConfigMap symlink swap, ignores invalid content, stops on abort', async () => {
    const root = makeHost({ '/etc/hostname': 'n\n' });
    const mount = tempDir('acr-cm-');
    // The kubelet's atomic writer layout: config.yaml -> ..data/config.yaml, ..data -> ..<ts>
    const v1 = join(mount, '..2024_01');
    const v2 = join(mount, '..2024_02');
    const v3 = join(mount, '..2024_03');
    for (const [dir, text] of [[v1, 'expiringThreshold: 10m\n'], [v2, 'expiringThreshold: 20m\n'], [v3, 'expiringThreshold: 20m\nbogus: 1\n']] as const) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'config.yaml'), text);
    }
    symlinkSync('..2024_01', join(mount, '..data'));
    symlinkSync('..data/config.yaml', join(mount, 'config.yaml'));
    const swap = (target: string) => {
      symlinkSync(target, join(mount, '..data_tmp'));
      renameSync(join(mount, '..data_tmp'), join(mount, '..data'));
    };
    const logs: string[] = [];
    const controller = new AbortController();
    const done = runSyncConfig({ fs: new HostFs(root), source: join(mount, 'config.yaml'), nodePath: NODE_PROVIDER_CONFIG, intervalMs: 10, signal: controller.signal, log: (l, line) => logs.push(`${l}: ${line}`) });
    const value = () => {
      try {
        return (JSON.parse(readHost(root, NODE_PROVIDER_CONFIG)) as { expiringThreshold?: string }).expiringThreshold;
      } catch {
        return undefined;
      }
    };
    await until(() => value() === '10m');
    swap('..2024_02');
    await until(() => value() === '20m');
    swap('..2024_03');
    await until(() => logs.some((l) => /error: .*unknown key "bogus"; keeping the node's current config/.test(l)));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(value(), '20m');
    assert.equal(logs.filter((l) => l.includes('unknown key')).length, 1, 'the same problem is logged once');
    controller.abort();
    await done;
  });
});


describe('sync-config says what it does', () => {
  it('one line per update, per refused episode (a repeat inside one is not said again) and per recovery', async () => {
    const root = makeHost({ '/etc/hostname': 'n\n' });
    const src = join(tempDir(), 'config.yaml');
    const logs: string[] = [];
    const opts = { fs: new HostFs(root), source: src, nodePath: NODE_PROVIDER_CONFIG, log: (level: string, line: string) => logs.push(`${level}: ${line}`) };
    const episode = {};
    const events = ['expiringThreshold: 10m\n', 'expiringThreshold: 20m\n', 'bogus: 1\n', 'expiringThreshold: 20m\n', 'bogus: 1\n', 'bogus: 1\n', 'expiringThreshold: 30m\n'];
    const results: string[] = [];
    for (const text of events) {
      writeFileSync(src, text);
      results.push((await syncOnce(opts, episode)).result);
    }
    assert.deepEqual(results, ['written', 'written', 'invalid', 'unchanged', 'invalid', 'invalid', 'written']);
    const count = (re: RegExp) => logs.filter((l) => re.test(l)).length;
    assert.equal(count(/^info: updated \/etc\/kubernetes\/aliyun-acr-credential-provider\/config\.json/), 3, logs.join('\n'));
    assert.equal(count(/^error: .*unknown key "bogus"; keeping the node's current config/), 2, `two episodes, the repeat inside the second one not said again\n${logs.join('\n')}`);
    assert.equal(count(/is valid again/), 2, `each recovery, also the one that changes nothing\n${logs.join('\n')}`);
    assert.equal(logs.length, 7, logs.join('\n'));
  });

  it('the CLI writes every one of those lines, also a line it wrote before', async () => {
    assert.ok(existsSync(BUNDLE), 'run npm run build first');
    const root = makeHost({ '/etc/hostname': 'n\n' });
    const src = join(tempDir(), 'config.yaml');
    writeFileSync(src, 'expiringThreshold: 10m\n');
    const child = spawn(process.execPath, [BUNDLE, 'sync-config', '--host-root', root, '--provider-config', src, '--interval', '10ms'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    const value = () => {
      try {
        return (JSON.parse(readHost(root, NODE_PROVIDER_CONFIG)) as { expiringThreshold?: string }).expiringThreshold;
      } catch {
        return undefined;
      }
    };
    // Replaced atomically, as a ConfigMap volume is: a pass never reads a half-written source.
    const replace = (text: string) => {
      writeFileSync(`${src}.new`, text);
      renameSync(`${src}.new`, src);
    };
    try {
      await until(() => value() === '10m');
      replace('expiringThreshold: 20m\n');
      await until(() => value() === '20m');
      replace('bogus: 1\n');
      await until(() => stderr.includes('unknown key "bogus"'));
      replace('expiringThreshold: 10m\n');
      await until(() => value() === '10m');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await new Promise((r) => child.on('exit', r)), 0);
    const lines = stderr.trim().split('\n');
    assert.equal(lines.filter((l) => /info: updated /.test(l)).length, 3, stderr);
    assert.equal(lines.filter((l) => /is valid again/.test(l)).length, 1, stderr);
  });
});
