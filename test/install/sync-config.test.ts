// sync-config: rewrites the node file when the validated source changes (including a ConfigMap
// style symlink swap), ignores invalid content, stops on abort.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HostFs } from '../../src/install/host-fs.ts';
import { NODE_PROVIDER_CONFIG } from '../../src/install/paths.ts';
import { runSyncConfig, syncOnce } from '../../src/install/sync-config.ts';
import { cleanup, makeHost, modeOf, readHost, tempDir } from './helpers.ts';

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

