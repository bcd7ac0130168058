// sync-config: rewrites the node file when the validated source changes (including a ConfigMap
// style symlink swap), ignores invalid content, stops on abort.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { HostFs } from '../../src/install/host-fs.ts';
import { NODE_PROVIDER_CONFIG } from '../../src/install/paths.ts';
import { runSyncConfig, syncOnce } from '../../src/install/sync-config.ts';
import { BUNDLE, cleanup, makeHost, modeOf, readHost, tempDir } from './helpers.ts';

after(cleanup);

async function until(check: () => boolean, ms = 3000): Promise<void> {
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
  it('logs every update, each refused episode once and each recovery (the CLI, its source fed through a FIFO one pass at a time)', async () => {
    assert.ok(existsSync(BUNDLE), 'run npm run build first');
    const root = makeHost({ '/etc/hostname': 'n\n' });
    const fifo = join(tempDir('acr-fifo-'), 'config.yaml');
    spawnSync('mkfifo', [fifo]);
    const child = spawn(process.execPath, [BUNDLE, 'sync-config', '--host-root', root, '--provider-config', fifo, '--interval', '1ms'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    // Each open for writing waits for the next pass to open the FIFO, so each write is one pass.
    const pass = async (text: string) => {
      const fh = await open(fifo, 'w');
      await fh.write(text);
      await fh.close();
    };
    try {
      const events = ['expiringThreshold: 10m\n', 'expiringThreshold: 20m\n', 'bogus: 1\n', 'expiringThreshold: 20m\n', 'bogus: 1\n', 'bogus: 1\n', 'expiringThreshold: 30m\n'];
      for (const text of events) await pass(text);
      await pass('expiringThreshold: 30m\n'); // its open proves the previous pass is finished
    } finally {
      child.kill('SIGKILL');
    }
    const lines = stderr.trim().split('\n');
    const count = (re: RegExp) => lines.filter((l) => re.test(l)).length;
    assert.equal(count(/info: updated \/etc\/kubernetes\/aliyun-acr-credential-provider\/config\.json/), 3, stderr);
    assert.equal(count(/error: .*unknown key "bogus"; keeping the node's current config/), 2, `two episodes, the repeat inside the second one not logged\n${stderr}`);
    assert.equal(count(/is valid again/), 2, `each recovery, also the one that changes nothing\n${stderr}`);
    assert.deepEqual(JSON.parse(readHost(root, '/etc/kubernetes/aliyun-acr-credential-provider/config.json')), { expiringThreshold: '30m' });
  });
});
