import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, readConfigFile } from '../../../src/config/load.ts';
import { ProviderError } from '../../../src/errors.ts';
import { FULL_CONFIG, FULL_CONFIG_YAML } from './fixtures.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'acr-config-'));
  chmodSync(dir, 0o755); // so the unprivileged child below can reach the files
});
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(text: string, ext = 'yaml'): string {
  const path = join(dir, `c${n++}.${ext}`);
  writeFileSync(path, text, { mode: 0o644 });
  return path;
}

async function rejection(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ProviderError, `expected a ProviderError, got ${String(error)}`);
    assert.equal(error.errorClass, 'config');
    assert.doesNotMatch(error.message, /\n/, 'one-line message');
    return error;
  }
  assert.fail('expected a rejection');
}

describe('readConfigFile: valid files', () => {
  it('loads YAML', async () => {
    assert.deepEqual(await readConfigFile(file(FULL_CONFIG_YAML)), FULL_CONFIG);
  });

  it('loads JSON (as the installer writes it)', async () => {
    assert.deepEqual(await readConfigFile(file(JSON.stringify(FULL_CONFIG, null, 2), 'json')), FULL_CONFIG);
  });

  it('loads JSON with a UTF-8 BOM and leading whitespace', async () => {
    assert.deepEqual(await readConfigFile(file(`\uFEFF\n  ${JSON.stringify({ timeout: '9s' })}`, 'json')), { timeout: '9s' });
  });

  it('loads YAML with a BOM', async () => {
    assert.deepEqual(await readConfigFile(file('\uFEFFtimeout: 9s\n')), { timeout: '9s' });
  });

  it('an empty or comment-only file is an empty config', async () => {
    assert.deepEqual(await readConfigFile(file('')), {});
    assert.deepEqual(await readConfigFile(file('# nothing here\n')), {});
  });

  it('loadConfig resolves the file with flags over it', async () => {
    const path = file(FULL_CONFIG_YAML);
    const c = await loadConfig({ config: path, timeout: '5s' }, {});
    assert.equal(c.configFile, path);
    assert.equal(c.timeoutMs, 5000);
    assert.equal(c.expiringThresholdMs, 10 * 60_000);
    assert.equal(c.metadata.roleName, 'node-role');
    assert.equal(c.metadata.disableIMDSv1, true);
    assert.deepEqual(c.cr.endpointMap, { 'cn-hangzhou': 'http://127.0.0.1:9000' });
  });

  it('loadConfig without --config reads no file and uses the environment', async () => {
    const c = await loadConfig({}, { ALIBABA_CLOUD_IMDS_ENDPOINT: '127.0.0.1:1', ALIBABA_CLOUD_IMDSV1_DISABLED: 'true' });
    assert.equal(c.configFile, undefined);
    assert.equal(c.metadata.endpoint, 'http://127.0.0.1:1');
    assert.equal(c.metadata.disableIMDSv1, true);
  });
});

describe('readConfigFile: rejected files', () => {
  const rows: Array<[string, string, string, RegExp]> = [
    ['an unknown top-level key (YAML)', 'timeout: 5s\ntimout: 6s\n', 'yaml', /: unknown key "timout"$/],
    ['an unknown metadata key (YAML)', 'metadata:\n  role: x\n', 'yaml', /: unknown key "metadata.role"$/],
    ['an unknown cr key (JSON)', '{"cr": {"region": "cn-hangzhou"}}', 'json', /: unknown key "cr.region"$/],
    ['an unknown registries[i] key (YAML)', 'registries:\n  - domains: [a.example.com]\n  - domains: [b.example.com]\n    instance: x\n', 'yaml', /: unknown key "registries.1.instance"$/],
    ['a wrong type', 'metadata:\n  disableIMDSv1: "yes"\n', 'yaml', /: metadata\.disableIMDSv1: /],
    ['a bad duration', 'expiringThreshold: 15 minutes\n', 'yaml', /: expiringThreshold: expected a duration/],
    ['a top level that is a list', '- timeout: 5s\n- logLevel: info\n', 'yaml', /: the top level must be a mapping$/],
    ['a top level that is a scalar', 'just some text\n', 'yaml', /: the top level must be a mapping$/],
    ['a JSON array', '[{"timeout": "5s"}]', 'json', /: the top level must be a mapping$/],
    ['duplicate YAML keys', 'timeout: 5s\nlogLevel: info\ntimeout: 50s\n', 'yaml', /: not valid YAML: .*unique/i],
    ['duplicate nested YAML keys', 'metadata:\n  roleName: a\n  roleName: b\n', 'yaml', /: not valid YAML: .*unique/i],
    ['broken YAML', 'timeout: [5s\nlogLevel: info\n', 'yaml', /: not valid YAML: /],
    ['broken JSON', '{"timeout": "5s",}', 'json', /: not valid JSON$/],
  ];
  for (const [name, text, ext, want] of rows) {
    it(`rejects ${name} with one line naming the file`, async () => {
      const path = file(text, ext);
      const error = await rejection(readConfigFile(path));
      assert.ok(error.message.startsWith(`invalid config file ${path}: `), error.message);
      assert.match(error.message, want);
    });
  }

  // The JSON fast path uses JSON.parse, which keeps the last of duplicate keys silently, while
  // the same document read by the YAML parser is rejected.
  it('duplicate keys in a JSON document on the YAML path are rejected', async () => {
    const error = await rejection(readConfigFile(file('--- {"timeout": "5s", "timeout": "50s"}\n')));
    assert.match(error.message, /not valid YAML: .*unique/i);
  });

  // Documented trade-off: JSON files (machine-written, on the hit path) take JSON.parse's
  // last-wins rule; YAML files (hand-written) reject duplicates.
  it('duplicate keys in a JSON file: the last one wins, as JSON.parse defines', async () => {
    const config = await readConfigFile(file('{"timeout": "5s", "timeout": "50s"}', 'json'));
    assert.equal(config.timeout, '50s');
  });

  it('range errors from the file surface through loadConfig', async () => {
    const error = await rejection(loadConfig({ config: file('timeout: 2m\n') }, {}));
    assert.match(error.message, /timeout must be between 1s and 55s/);
  });

  it('a missing file', async () => {
    const path = join(dir, 'does-not-exist.yaml');
    const error = await rejection(readConfigFile(path));
    assert.equal(error.message, `cannot read config file ${path}: no such file`);
  });

  it('a directory instead of a file', async () => {
    const error = await rejection(readConfigFile(dir));
    assert.equal(error.message, `config file ${dir} is not a regular file`);
  });

  it('an unreadable file', async (t) => {
    const path = file('timeout: 5s\n');
    chmodSync(path, 0o000);
    if (process.getuid?.() !== 0) {
      const error = await rejection(readConfigFile(path));
      assert.equal(error.message, `cannot read config file ${path}: permission denied`);
      return;
    }
    // root reads anything: read it from a child running as nobody instead.
    const child = spawnSync(process.execPath, [fileURLToPath(new URL('./fixtures/read-config.ts', import.meta.url)), path], {
      uid: 65534,
      gid: 65534,
      encoding: 'utf8',
      cwd: '/',
    });
    if (child.status !== 0 || child.stdout.trim() === '') {
      t.skip(`cannot run a child as uid 65534 here: ${child.stderr.split('\n')[0] ?? ''}`);
      return;
    }
    const outcome = JSON.parse(child.stdout) as { ok: boolean; errorClass?: string; message?: string };
    assert.deepEqual(outcome, { ok: false, errorClass: 'config', message: `cannot read config file ${path}: permission denied` });
  });
});
